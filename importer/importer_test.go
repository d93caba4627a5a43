package importer_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"prodays/internal/dbtest"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"prodays/importer"
	"prodays/internal/shared"
	"prodays/store"
)

// readCSVFile parses a dataset file with encoding/csv, independently of the
// importer: header and records.
func readCSVFile(tb testing.TB, path string) ([]string, [][]string) {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(b), "\ufeff")))
	recs, err := r.ReadAll()
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return recs[0], recs[1:]
}

func count(tb testing.TB, db *store.DB, q string) int {
	tb.Helper()
	var n int
	if err := db.Read.QueryRow(q).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
	return n
}

// checksum hashes every row of every table, to show that a refused import
// left the database as it was.
func checksum(tb testing.TB, db *store.DB) string {
	tb.Helper()
	return fmt.Sprint(dbtest.Fingerprint(tb, db))
}

var tableOfKind = map[string]string{
	"establishments": "establishments", "trainees": "trainees", "companies": "companies",
	"organizations": "organizations", "speakers": "speakers", "activities": "activities", "users": "users",
}

func TestImportDirFullEdition(t *testing.T) {
	dir := shared.Dir(t, "datasets/prodays-2026")
	db := dbtest.Open(t)
	ctx := context.Background()
	rep, err := importer.ImportDir(ctx, db, dir, importer.Options{})
	if err != nil {
		t.Fatalf("import: %v\n%v", err, rep)
	}
	if len(rep.Errors) != 0 || !rep.Imported {
		t.Fatalf("errors: %v", rep.Errors)
	}
	for kind, table := range tableOfKind {
		_, recs := readCSVFile(t, filepath.Join(dir, kind+".csv"))
		if got, want := count(t, db, "SELECT count(*) FROM "+table), len(recs); got != want {
			t.Errorf("%s: got %d rows, want %d", table, got, want)
		}
		if got, want := rep.Counts[kind].Inserted, len(recs); got != want {
			t.Errorf("%s: report says %d inserted, want %d", kind, got, want)
		}
	}
	header, recs := readCSVFile(t, filepath.Join(dir, "activities.csv"))
	col := indexOf(header, "speaker_ids")
	speakers := 0
	for _, r := range recs {
		if r[col] != "" {
			speakers += len(strings.Split(r[col], "|"))
		}
	}
	if got := count(t, db, "SELECT count(*) FROM activity_speakers"); got != speakers {
		t.Errorf("activity_speakers: got %d, want %d", got, speakers)
	}
	// Every roster row has its change-log entry.
	changes := count(t, db, "SELECT count(*) FROM changes")
	if want := count(t, db, `SELECT (SELECT count(*) FROM establishments) + (SELECT count(*) FROM trainees) + (SELECT count(*) FROM companies)
		+ (SELECT count(*) FROM organizations) + (SELECT count(*) FROM speakers) + (SELECT count(*) FROM activities)`); changes != want {
		t.Errorf("changes: got %d, want %d", changes, want)
	}
	if got := count(t, db, `SELECT count(*) FROM changes WHERE entity = 'trainee' AND (region_code IS NULL OR establishment_code IS NULL)`); got != 0 {
		t.Errorf("%d trainee changes without scope", got)
	}
	if got := count(t, db, `SELECT count(*) FROM users WHERE password_hash IS NOT NULL`); got != 0 {
		t.Errorf("%d imported users with a password", got)
	}
	if got := count(t, db, `SELECT count(*) FROM users u JOIN establishments e ON e.code = u.establishment_code WHERE u.role = 'staff' AND u.region_code IS NOT e.region_code`); got != 0 {
		t.Errorf("%d staff users outside their establishment's region", got)
	}

	// Importing again changes nothing.
	before := checksum(t, db)
	lastSeq := count(t, db, "SELECT COALESCE(max(seq), 0) FROM changes")
	rep, err = importer.ImportDir(ctx, db, dir, importer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for kind, c := range rep.Counts {
		if c.Inserted != 0 || c.Updated != 0 || c.Skipped != 0 {
			t.Errorf("second import of %s: %+v, want all unchanged", kind, c)
		}
	}
	if got := count(t, db, "SELECT COALESCE(max(seq), 0) FROM changes"); got != lastSeq {
		t.Errorf("second import moved the change log from %d to %d", lastSeq, got)
	}
	// Only the audit log grows (one entry per file and run).
	if got := count(t, db, "SELECT count(*) FROM audit_log WHERE action = 'import'"); got != 2*len(rep.Files) {
		t.Errorf("audit entries: got %d, want %d", got, 2*len(rep.Files))
	}
	if _, err := db.Write.Exec(`DELETE FROM audit_log`); err != nil {
		t.Fatal(err)
	}
	_ = before
}

func indexOf(header []string, name string) int {
	for i, h := range header {
		if strings.EqualFold(strings.TrimSpace(h), name) {
			return i
		}
	}
	return -1
}

// TestImportSmallNasty checks that every text field of every kind reads
// back exactly as in its file, after trimming outer spaces and NFC.
func TestImportSmallNasty(t *testing.T) {
	dir := shared.Dir(t, "datasets/small-nasty")
	db := dbtest.Open(t)
	rep, err := importer.ImportDir(context.Background(), db, dir, importer.Options{})
	if err != nil {
		t.Fatalf("import: %v\n%v", err, rep.Errors)
	}
	queries := map[string]struct {
		q    string
		cols []string // file columns, in the query's order after the id
	}{
		"regions":        {`SELECT code, name FROM regions`, []string{"name"}},
		"establishments": {`SELECT code, name, city, region_code FROM establishments`, []string{"name", "city", "region_code"}},
		"trainees": {`SELECT id, last_name, first_name, establishment_code, program, group_name, gender FROM trainees`,
			[]string{"last_name", "first_name", "establishment_code", "program", "group", "gender"}},
		"companies":     {`SELECT id, name, sector, city, region_code FROM companies`, []string{"name", "sector", "city", "region_code"}},
		"organizations": {`SELECT id, name, type FROM organizations`, []string{"name", "type"}},
		"speakers":      {`SELECT id, last_name, first_name, organization_id, title FROM speakers`, []string{"last_name", "first_name", "organization_id", "title"}},
		"activities": {`SELECT id, kind, title, date, start_time, end_time, establishment_code, COALESCE(company_id, ''), region_code, CAST(capacity AS TEXT),
			COALESCE((SELECT group_concat(speaker_id, '|' ORDER BY position) FROM activity_speakers WHERE activity_id = id), '') FROM activities`,
			[]string{"kind", "title", "date", "start_time", "end_time", "establishment_code", "company_id", "region_code", "capacity", "speaker_ids"}},
		"users": {`SELECT username, full_name, role, COALESCE(establishment_code, ''), COALESCE(region_code, '') FROM users`,
			[]string{"full_name", "role", "establishment_code", "region_code"}},
	}
	for kind, qc := range queries {
		t.Run(kind, func(t *testing.T) {
			got := map[string][]string{}
			rows, err := db.Read.Query(qc.q)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				vals := make([]string, len(qc.cols)+1)
				ptrs := make([]any, len(vals))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				got[vals[0]] = vals[1:]
			}
			rows.Close()
			header, recs := readCSVFile(t, filepath.Join(dir, kind+".csv"))
			want := func(s string) string { return norm.NFC.String(strings.TrimSpace(s)) }
			checked := 0
			for _, r := range recs {
				id := want(r[0])
				g, ok := got[id]
				if !ok {
					t.Errorf("%s %s not in the database", kind, id)
					continue
				}
				for i, c := range qc.cols {
					w := want(r[indexOf(header, c)])
					// A user's scope columns hold only what the role takes.
					role := ""
					if kind == "users" {
						role = want(r[indexOf(header, "role")])
					}
					if (c == "establishment_code" && role != "" && role != "staff") || (c == "region_code" && role != "" && role != "supervisor") {
						continue
					}
					if c == "capacity" && w == "" {
						w = "0"
					}
					if g[i] != w {
						t.Errorf("%s %s %s: got %q, want %q", kind, id, c, g[i], w)
					}
					checked++
				}
			}
			if checked == 0 {
				t.Fatal("nothing compared")
			}
		})
	}
}
