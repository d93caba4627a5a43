package api_test

import (
	"go/build"
	"prodays/internal/testenv"
	"slices"
	"strings"
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

// TestAPIDependsOnNoDatabase: the HTTP adapter reaches the store, the
// engine, authentication, the documents and the importer only through the
// interfaces of services.go, which main fills (server/serve.go); so no
// package it depends on, directly or not, is a database package. It runs
// `go list -deps` on the api package. database/sql/driver is allowed: it
// is the interfaces github.com/google/uuid implements (driver.Valuer),
// not database/sql.
func TestAPIDependsOnNoDatabase(t *testing.T) {
	deps := testenv.Deps(t)
	if !slices.Contains(deps, "prodays/api") {
		t.Fatalf("go list -deps lists no prodays/api: %q", deps)
	}
	for _, dep := range deps {
		switch {
		case dep == "database/sql", strings.HasPrefix(dep, "modernc.org/sqlite"),
			dep == "prodays/store", dep == "prodays/sync/engine":
			t.Errorf("package api depends on %s: reach it through an interface of services.go", dep)
		}
	}
}
