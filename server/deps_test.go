package main

import (
	osexec "os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestBinaryLinksNoTestSupport: the prodays binary depends on no test
// support (package testing, prodays/internal/synctest, testenv, …): a
// production package that borrows a helper from them drags them in.
func TestBinaryLinksNoTestSupport(t *testing.T) {
	gobin, err := osexec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out, err := osexec.Command(gobin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch dep {
		case "testing", "prodays/internal/synctest", "prodays/internal/testenv", "prodays/internal/dbtest",
			"prodays/internal/fixture", "prodays/internal/dataset", "prodays/internal/pdftest", "prodays/internal/xlsxtest":
			t.Errorf("the prodays binary depends on %s", dep)
		}
	}
}
