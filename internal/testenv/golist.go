package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// goCommand returns the go command of the toolchain running the tests,
// else the first on PATH.
func goCommand() (string, error) {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err == nil {
		return goBin, nil
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("no go command: %w", err)
	}
	return goBin, nil
}

// Deps returns the import paths the package in the current directory
// depends on, itself included, directly or not (`go list -deps .`).
func Deps(tb testing.TB) []string {
	tb.Helper()
	goBin, err := goCommand()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := exec.Command(goBin, "list", "-deps", ".").Output()
	if err != nil {
		tb.Fatalf("go list -deps: %v", err)
	}
	return strings.Fields(string(out))
}
