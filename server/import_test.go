package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs prodays with args and stdin, returning the exit code and
// outputs.
func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	if err != nil {
		code = exitCode(err)
		errb.WriteString("prodays: " + err.Error() + "\n")
	}
	return code, out.String(), errb.String()
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// importedDB writes files (name: content) to a folder and imports it with
// `prodays import --dir` into a new database; it returns the database's
// path and the folder.
func importedDB(t *testing.T, files map[string]string) (db, dir string) {
	t.Helper()
	db = filepath.Join(t.TempDir(), "prodays.db")
	dir = t.TempDir()
	writeFiles(t, dir, files)
	if code, stdout, stderr := runCLI(t, "", "import", "--db", db, "--dir", dir); code != 0 {
		t.Fatalf("import: exit %d\n%s%s", code, stdout, stderr)
	}
	return db, dir
}

func TestImportCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "prodays.db")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"establishments.csv": "code,name,city,region_code\nEFP0105,ISTA Tanger,Tanger,TTA\n",
		// F25010500001N is valid; line 4 names an unknown establishment
		// after a quoted field with a line break.
		"trainees.csv": "trainee_id,last_name,first_name,establishment_code,program,group,gender\n" +
			"F25010500001N,\"Aït\nBaha\",Meryem,EFP0105,,,F\n" +
			"F25010500002P,Rami,Omar,EFP9999,,,M\n",
		"notes.txt": "ignored",
	})
	code, stdout, stderr := runCLI(t, "", "import", "--db", db, "--dir", dir)
	if code != 1 {
		t.Fatalf("exit code: got %d, want 1\n%s%s", code, stdout, stderr)
	}
	want := filepath.Join(dir, "trainees.csv") + ":4:establishment_code: unknown establishment EFP9999"
	if !strings.Contains(stderr, want+"\n") {
		t.Errorf("stderr: got %q, want a line %q", stderr, want)
	}
	if !strings.Contains(stdout, "not imported") {
		t.Errorf("stdout: got %q", stdout)
	}
	// Nothing imported: the establishments file was valid, but the run
	// was refused as a whole.
	code, stdout, _ = runCLI(t, "", "user", "add", "s.staff", "--db", db, "--role", "staff", "--establishment", "EFP0105")
	if code != 1 || strings.Contains(stdout, "created") {
		t.Errorf("establishment EFP0105 exists after a refused import: %d %q", code, stdout)
	}

	// --skip-invalid imports the good rows.
	code, stdout, stderr = runCLI(t, "", "import", "--db", db, "--dir", dir, "--skip-invalid")
	if code != 0 || !strings.Contains(stdout, "trainees.csv (trainees): 2 rows: 1 inserted, 0 updated, 0 unchanged, 1 skipped") {
		t.Errorf("skip-invalid: %d\n%s%s", code, stdout, stderr)
	}

	// Files with an explicit kind, and a clean re-import.
	fixed := filepath.Join(t.TempDir(), "roster.csv")
	writeFiles(t, filepath.Dir(fixed), map[string]string{"roster.csv": "trainee_id;last_name;first_name;establishment_code\nF25010500001N;\"Aït\nBaha\";Meryem;EFP0105\n"})
	code, stdout, stderr = runCLI(t, "", "import", "--db", db, "--kind", "trainees", fixed)
	if code != 0 || !strings.Contains(stdout, "1 rows: 0 inserted, 1 updated") {
		t.Errorf("--kind: %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = runCLI(t, "", "import", fixed, "--db", db, "--kind", "trainees")
	if code != 0 || !strings.Contains(stdout, "0 inserted, 0 updated, 1 unchanged") {
		t.Errorf("re-import: %d\n%s", code, stdout)
	}

	// Usage errors exit 2; a file of unknown kind exits 1.
	if code, _, _ := runCLI(t, "", "import", "--db", db); code != 2 {
		t.Errorf("no files: exit %d, want 2", code)
	}
	if code, _, stderr := runCLI(t, "", "import", "--db", db, filepath.Join(dir, "notes.txt")); code != 1 || !strings.Contains(stderr, "not a .csv or .xlsx file") {
		t.Errorf("notes.txt: exit %d %q", code, stderr)
	}
	empty := filepath.Join(t.TempDir(), "companies.csv")
	writeFiles(t, filepath.Dir(empty), map[string]string{"companies.csv": ""})
	if code, _, stderr := runCLI(t, "", "import", "--db", db, empty); code != 1 || !strings.Contains(stderr, empty+": file is empty") {
		t.Errorf("empty file: exit %d %q", code, stderr)
	}
}

func TestUserCommand(t *testing.T) {
	db, _ := importedDB(t, map[string]string{"establishments.csv": "code,name,city,region_code\nEFP0105,ISTA Tanger,Tanger,TTA\n"})
	steps := []struct {
		stdin  string
		args   []string
		code   int
		output string
	}{
		{"correct horse battery\n", []string{"user", "add", "s.staff", "--db", db, "--role", "staff", "--establishment", "EFP0105", "--full-name", "Salma Idrissi", "--password-stdin"}, 0, "user s.staff created (staff of EFP0105, region TTA)"},
		{"", []string{"user", "add", "r.sup", "--db", db, "--role", "supervisor", "--region", "CS"}, 0, "no password yet"},
		{"", []string{"user", "add", "r.sup", "--db", db, "--role", "admin"}, 1, "User r.sup already exists."},
		{"short\n", []string{"user", "add", "x", "--db", db, "--role", "admin", "--password-stdin"}, 1, "password: at least 10 characters"},
		{strings.Repeat("p", 257) + "\n", []string{"user", "add", "x", "--db", db, "--role", "admin", "--password-stdin"}, 1, "password: at most 256 characters"},
		{"", []string{"user", "add", "x.staff", "--db", db, "--role", "staff"}, 1, "A staff user needs an establishment."},
		{"another long one\r\n", []string{"user", "passwd", "r.sup", "--db", db, "--password-stdin"}, 0, "password of r.sup changed"},
		{"", []string{"user", "passwd", "r.sup", "--db", db}, 2, "Usage"},
		{"another long one\n", []string{"user", "passwd", "nobody", "--db", db, "--password-stdin"}, 1, "No user nobody."},
		{"", []string{"user", "disable", "s.staff", "--db", db}, 0, "user s.staff disabled"},
		{"", []string{"user", "list", "--db", db}, 0, "s.staff   staff       EFP0105        TTA     yes       yes       Salma Idrissi"},
		{"", []string{"user", "frobnicate"}, 2, "unknown subcommand"},
	}
	for _, s := range steps {
		code, stdout, stderr := runCLI(t, s.stdin, s.args...)
		if code != s.code || !strings.Contains(stdout+stderr, s.output) {
			t.Errorf("%v: got %d\n%s%s\nwant %d and %q", s.args, code, stdout, stderr, s.code, s.output)
		}
	}
}
