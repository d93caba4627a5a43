package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// WantMode fails tb for each of files that is missing or whose permission
// bits are not perm (e.g. 0o600: owner-only).
func WantMode(tb testing.TB, perm os.FileMode, files ...string) {
	tb.Helper()
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			tb.Errorf("%s: %v", filepath.Base(f), err)
			continue
		}
		if got := st.Mode().Perm(); got != perm {
			tb.Errorf("%s: mode %#o, want %#o", filepath.Base(f), got, perm)
		}
	}
}
