// Package shared locates the office's shared materials (../shared beside
// the repository: datasets and formats) for tests and benchmarks.
//
// A user's clone has no ../shared: tests that need it skip and say why.
// CI sets PRODAYS_REQUIRE_SHARED=1, which turns that skip into a failure.
// PRODAYS_SHARED overrides the location.
package shared

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Root returns the shared folder, or "" when it is absent.
func Root() string {
	if d := os.Getenv("PRODAYS_SHARED"); d != "" {
		return d
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	// file is <repo>/internal/shared/shared.go
	d := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared")
	if st, err := os.Stat(d); err == nil && st.IsDir() {
		return filepath.Clean(d)
	}
	return ""
}

// Required reports whether CI demands the shared materials.
func Required() bool { return os.Getenv("PRODAYS_REQUIRE_SHARED") == "1" }

// Dir returns <shared>/<sub> (for example "datasets/prodays-2026"), or
// skips tb when it is absent (fails it when PRODAYS_REQUIRE_SHARED=1).
func Dir(tb testing.TB, sub string) string {
	tb.Helper()
	root := Root()
	d := filepath.Join(root, sub)
	if root != "" {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
	}
	msg := "shared materials not found: need ../shared/" + sub + " beside the repository (or PRODAYS_SHARED)"
	if Required() {
		tb.Fatal(msg + "; PRODAYS_REQUIRE_SHARED=1 makes this a failure")
	}
	tb.Skip(msg)
	return ""
}

// EachEdition runs fn as a subtest, with its folder, for each edition
// dataset that has an expected.json: small-nasty, then the full
// prodays-2026, which -short skips.
func EachEdition(t *testing.T, fn func(t *testing.T, dir string)) {
	for _, name := range []string{"small-nasty", "prodays-2026"} {
		t.Run(name, func(t *testing.T) {
			if name == "prodays-2026" && testing.Short() {
				t.Skip("full edition: not with -short")
			}
			fn(t, Dir(t, "datasets/"+name))
		})
	}
}
