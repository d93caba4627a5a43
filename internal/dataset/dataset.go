// Package dataset gives tests and benchmarks the office's edition
// datasets (../shared/datasets, see internal/shared): their folders, their
// expected figures, and databases that hold them.
//
// Like shared.Dir, each function skips the test when the shared materials
// are absent, and fails it when PRODAYS_REQUIRE_SHARED=1.
package dataset

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"prodays/importer"
	"prodays/internal/shared"
	"prodays/store"
)

// The editions.
const (
	SmallNasty = "small-nasty"
	Full       = "prodays-2026" // the full edition
)

// Dir returns the folder of the edition name.
func Dir(tb testing.TB, name string) string {
	tb.Helper()
	return shared.Dir(tb, "datasets/"+name)
}

// Expected decodes the edition's expected.json (its figures) into v and
// returns the edition's folder.
func Expected(tb testing.TB, name string, v any) string {
	tb.Helper()
	dir := Dir(tb, name)
	data, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		tb.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		tb.Fatalf("%s/expected.json: %v", name, err)
	}
	return dir
}

// Import imports the edition's files into db, or only the files named
// (e.g. "establishments.csv"), and returns the edition's folder.
func Import(tb testing.TB, db *store.DB, name string, files ...string) string {
	tb.Helper()
	dir := Dir(tb, name)
	if len(files) == 0 {
		ImportDir(tb, db, dir)
	}
	for _, f := range files {
		if _, err := importer.ImportFile(context.Background(), db, filepath.Join(dir, f), "", importer.Options{}); err != nil {
			tb.Fatalf("import %s: %v", f, err)
		}
	}
	return dir
}

// ImportDir imports the office's files of dir (an edition, or a copy made
// from one) into db.
func ImportDir(tb testing.TB, db *store.DB, dir string) {
	tb.Helper()
	if _, err := importer.ImportDir(context.Background(), db, dir, importer.Options{}); err != nil {
		tb.Fatalf("import %s: %v", dir, err)
	}
}
