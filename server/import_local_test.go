package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"prodays/store"
)

// TestImportKeepsLocalChanges (issue #18, finding 2): a trainee's first
// name corrected on the server after the import survives a re-import of
// the same file, which names the field with both values; with
// --overwrite-local-changes the file's value is taken.
func TestImportKeepsLocalChanges(t *testing.T) {
	db, dir := importedDB(t, map[string]string{
		"establishments.csv": "code,name,city,region_code\nEFP0105,ISTA Tanger,Tanger,TTA\n",
		"trainees.csv":       "trainee_id,last_name,first_name,establishment_code,program,group,gender\nF25010500001N,Baha,Meryem,EFP0105,,G1,F\n",
	})
	firstName := func() string {
		s, err := store.Open(context.Background(), db, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var v string
		if err := s.Read.QueryRow(`SELECT first_name FROM trainees WHERE id = 'F25010500001N'`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	s, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write.Exec(`UPDATE trainees SET first_name = 'Myriam', version = version + 1 WHERE id = 'F25010500001N'`); err != nil {
		t.Fatal(err)
	}
	s.Close()

	line := filepath.Join(dir, "trainees.csv") + `:2: trainee F25010500001N first_name: server "Myriam", file "Meryem"`
	code, stdout, stderr := runCLI(t, "", "import", "--db", db, "--dir", dir)
	if code != 0 || !strings.Contains(stdout, "kept the server's value: "+line) || !strings.Contains(stdout, "0 updated, 1 unchanged") {
		t.Errorf("re-import: %d\n%s%s", code, stdout, stderr)
	}
	if v := firstName(); v != "Myriam" {
		t.Errorf("after the re-import: first_name %q, want the server's Myriam", v)
	}
	code, stdout, stderr = runCLI(t, "", "import", "--db", db, "--dir", dir, "--overwrite-local-changes")
	if code != 0 || !strings.Contains(stdout, "took the file's value: "+line) || !strings.Contains(stdout, "1 updated") {
		t.Errorf("--overwrite-local-changes: %d\n%s%s", code, stdout, stderr)
	}
	if v := firstName(); v != "Meryem" {
		t.Errorf("after --overwrite-local-changes: first_name %q, want the file's Meryem", v)
	}
}
