package api_test

import (
	"go/build"
	"testing"
)

// TestNoSQLInAPI: the HTTP handlers bind, call the store or the engine,
// and render; they hold no SQL, so the api package imports no database
// package itself. (Its dependencies do: the store and the engine are
// where the SQL lives.)
func TestNoSQLInAPI(t *testing.T) {
	pkg, err := build.Default.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		switch imp {
		case "database/sql", "database/sql/driver", "modernc.org/sqlite":
			t.Errorf("package api imports %s: move the SQL into the store or the engine", imp)
		}
	}
}
