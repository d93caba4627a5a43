package importer_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"prodays/internal/dbtest"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"prodays"
	"prodays/importer"
	"prodays/store"
)

// matricule builds a valid trainee_id: F, year, establishment number,
// sequence, check letter.
func matricule(year, est, seq int) string {
	digits := fmt.Sprintf("%02d%04d%05d", year, est, seq)
	var v uint64
	for _, c := range digits {
		v = v*10 + uint64(c-'0')
	}
	return "F" + digits + string("ABCDEFGHJKLMNPQRSTUVWXY"[v%23])
}

// baseDB holds two establishments (EFP0105, EFP0130 in TTA), a company,
// an organization and a speaker.
func baseDB(t *testing.T) *store.DB {
	t.Helper()
	db := dbtest.Open(t)
	dir := t.TempDir()
	files := map[string]string{
		"establishments.csv": "code,name,city,region_code\nEFP0105,ISTA Tanger,Tanger,TTA\nEFP0130,ITA Fnideq,Fnideq,TTA\n",
		"companies.csv":      "company_id,name,sector,city,region_code\nENT-0001,Atlas Éolien,Énergie,Rabat,RSK\n",
		"organizations.csv":  "organization_id,name,type\nORG-0001,Fondation,association\n",
		"speakers.csv":       "speaker_id,last_name,first_name,organization_id,title\nSPK-0001,Rami,Achraf,ORG-0001,Ingénieur\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := importer.ImportDir(context.Background(), db, dir, importer.Options{}); err != nil {
		t.Fatal(err)
	}
	return db
}

const traineeHeader = "trainee_id,last_name,first_name,establishment_code,program,group,gender\n"
const activityHeader = "activity_id,kind,title,date,start_time,end_time,establishment_code,company_id,region_code,capacity,speaker_ids\n"

func TestImportMalformed(t *testing.T) {
	m1, m2, m3 := matricule(25, 105, 1), matricule(25, 105, 2), matricule(25, 130, 3)
	trainee := func(id, est string) string { return id + ",Aït Baha,Meryem," + est + ",Arts culinaires,CUI101,F\n" }
	good := traineeHeader + trainee(m1, "EFP0105") + trainee(m2, "EFP0105")

	xlsxFile := func(t *testing.T, path string) {
		f := excelize.NewFile()
		rows := [][]any{
			{"Gender", " TRAINEE_ID ", "last_name", "first_name", "establishment_code", "program", "group"},
			{"F", m1, "  N'Diaye ", "Ilham 🇲🇦", "EFP0105", "=SUM(A1)", "G1"},
			{"M", m2, "El Fassi", "Omar", "EFP0130"},
		}
		for i, r := range rows {
			if err := f.SetSheetRow("Sheet1", fmt.Sprintf("A%d", i+1), &r); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.SaveAs(path); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name        string
		file        string
		body        string
		gen         func(t *testing.T, path string) // instead of body
		skipInvalid bool
		wantErrs    []string // substrings of the issues, FILE:LINE:COLUMN: message
		inserted    int      // on success
		skipped     int
	}{
		{name: "missing required column", file: "trainees.csv",
			body:     "trainee_id,first_name,establishment_code\n" + m1 + ",Meryem,EFP0105\n",
			wantErrs: []string{"trainees.csv:1:last_name: missing required column last_name"}},
		{name: "unknown establishment", file: "trainees.csv",
			body:     traineeHeader + trainee(m1, "EFP0105") + trainee(m2, "EFP9999"),
			wantErrs: []string{"trainees.csv:3:establishment_code: unknown establishment EFP9999"}},
		{name: "duplicate id", file: "trainees.csv",
			body:     traineeHeader + trainee(m1, "EFP0105") + trainee(m1, "EFP0130"),
			wantErrs: []string{"trainees.csv:3:trainee_id: duplicate trainee_id " + m1 + " (first on line 2)"}},
		{name: "bad check letter", file: "trainees.csv",
			body:     traineeHeader + trainee(m1[:12]+"Z", "EFP0105"),
			wantErrs: []string{"trainees.csv:2:trainee_id: trainee_id " + m1[:12] + "Z: check letter Z, want " + m1[12:]}},
		{name: "bad gender", file: "trainees.csv",
			body:     traineeHeader + m1 + ",A,B,EFP0105,,,X\n",
			wantErrs: []string{`trainees.csv:2:gender: gender "X": want F, M or empty`}},
		{name: "bad date", file: "activities.csv",
			body:     activityHeader + "MTG-1,meeting,Rencontre,2026-02-30,08:30,10:00,EFP0105,,TTA,20,SPK-0001\n",
			wantErrs: []string{`activities.csv:2:date: date "2026-02-30": want YYYY-MM-DD`}},
		{name: "bad time", file: "activities.csv",
			body:     activityHeader + "MTG-1,meeting,Rencontre,2026-03-21,8h30,10:00,EFP0105,,TTA,20,SPK-0001\n",
			wantErrs: []string{`activities.csv:2:start_time: start_time "8h30": want HH:MM`}},
		{name: "unknown speaker and company", file: "activities.csv",
			body: activityHeader + "VIS-1,company_visit,Visite,2026-03-21,08:30,10:00,EFP0105,ENT-9,CS,20,\n" +
				"MTG-1,meeting,Rencontre,2026-03-21,08:30,10:00,EFP0105,,TTA,20,SPK-0001|SPK-0404\n",
			wantErrs: []string{"activities.csv:2:company_id: unknown company ENT-9", "activities.csv:3:speaker_ids: unknown speaker SPK-0404"}},
		{name: "users roles", file: "users.csv",
			body: "username,full_name,role,establishment_code,region_code\na.staff,A,staff,,\nb.sup,B,supervisor,,\nc.x,C,root,,\nd.sup,D,supervisor,,XX\n",
			wantErrs: []string{"users.csv:2:establishment_code: a staff user needs", "users.csv:3:region_code: a supervisor needs",
				`users.csv:4:role: role "root"`, "users.csv:5:region_code: unknown region XX"}},
		{name: "unknown region code", file: "regions.csv",
			body:     "region_code,name,official_number\nTTA,Tanger,1\nXYZ,Nowhere,13\n",
			wantErrs: []string{"regions.csv:3:region_code: unknown region XYZ"}},
		{name: "too many fields", file: "trainees.csv",
			body:     traineeHeader + trainee(m1, "EFP0105") + m2 + ",Aït Baha,Meryem,EFP0105,Arts, culinaires,CUI101,F\n",
			wantErrs: []string{"trainees.csv:3:8: row has 8 fields, the header has 7"}},
		{name: "too few fields", file: "trainees.csv",
			body:     traineeHeader + m1 + ",Aït Baha,Meryem,EFP0105\n",
			wantErrs: []string{"trainees.csv:2:program: row has 4 fields, the header has 7"}},
		{name: "line numbers count line breaks in quoted fields", file: "trainees.csv",
			body:     traineeHeader + m1 + ",\"Aït\nBaha\",\"Me, \"\"ryem\"\"\",EFP0105,\"Arts\r\nculinaires\",CUI101,F\n" + trainee(m2, "EFP9999"),
			wantErrs: []string{"trainees.csv:5:establishment_code: unknown establishment EFP9999"}},
		{name: "binary file", file: "trainees.csv",
			body:     "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01",
			wantErrs: []string{"trainees.csv: file is binary"}},
		{name: "empty file", file: "trainees.csv", body: "",
			wantErrs: []string{"trainees.csv: file is empty"}},
		{name: "only a BOM and blank lines", file: "trainees.csv", body: "\ufeff\r\n\n",
			wantErrs: []string{"trainees.csv: file is empty"}},
		{name: "100 MB file", file: "trainees.csv",
			gen: func(t *testing.T, path string) {
				f, err := os.Create(path)
				if err != nil {
					t.Fatal(err)
				}
				f.WriteString(traineeHeader)
				if err := f.Truncate(100 << 20); err != nil { // sparse: no 100 MB written
					t.Fatal(err)
				}
				f.Close()
			},
			wantErrs: []string{"trainees.csv: file is larger than the limit of 50 MB"}},
		{name: "non-UTF-8 text", file: "trainees.csv",
			body:     traineeHeader + trainee(m1, "EFP0105") + m2 + ",H\xe9l\xe8ne,Meryem,EFP0105,,,F\n",
			wantErrs: []string{"trainees.csv:3:last_name: text is not valid UTF-8"}},
		{name: "unterminated quote", file: "trainees.csv",
			body:     traineeHeader + m1 + ",\"Aït,Meryem,EFP0105,,,F\n",
			wantErrs: []string{"trainees.csv:2: CSV syntax"}},
		{name: "semicolon separated", file: "trainees.csv", inserted: 2,
			body: strings.ReplaceAll(traineeHeader, ",", ";") + m1 + ";\"Aït; Baha\";Meryem;EFP0105;Arts, culinaires;CUI101;F\n" + m2 + ";B;C;EFP0130;;;\n"},
		{name: "BOM", file: "trainees.csv", inserted: 2, body: "\ufeff" + good},
		{name: "CRLF", file: "trainees.csv", inserted: 2, body: strings.ReplaceAll(good, "\n", "\r\n")},
		{name: "unknown column is a warning", file: "trainees.csv", inserted: 1,
			body: "Trainee_ID , LAST_NAME,first_name,establishment_code,program,group,gender,note\n" + m1 + ",A,B,EFP0105,,,F,hello\n"},
		{name: "XLSX", file: "trainees.xlsx", inserted: 2, gen: xlsxFile},
		{name: "skip invalid", file: "trainees.csv", skipInvalid: true, inserted: 2, skipped: 2,
			body:     traineeHeader + trainee(m1, "EFP0105") + trainee(m2, "EFP9999") + trainee(m3, "EFP0130") + trainee(m3, "EFP0105"),
			wantErrs: []string{"trainees.csv:3:establishment_code: unknown establishment EFP9999", "trainees.csv:5:trainee_id: duplicate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := baseDB(t)
			before := checksum(t, db)
			path := filepath.Join(t.TempDir(), tt.file)
			if tt.gen != nil {
				tt.gen(t, path)
			} else if err := os.WriteFile(path, []byte(tt.body), 0o600); err != nil {
				t.Fatal(err)
			}
			rep, err := importer.ImportFile(context.Background(), db, path, "", importer.Options{SkipInvalid: tt.skipInvalid})
			if rep == nil {
				t.Fatalf("no report; err %v", err)
			}
			var got []string
			for _, is := range rep.Errors {
				got = append(got, is.String())
			}
			for _, want := range tt.wantErrs {
				found := false
				for _, g := range got {
					found = found || strings.Contains(g, want)
				}
				if !found {
					t.Errorf("errors: got %q, want one containing %q", got, want)
				}
			}
			if len(tt.wantErrs) == 0 && len(got) > 0 {
				t.Errorf("errors: got %q, want none", got)
			}
			if len(tt.wantErrs) > 0 && !tt.skipInvalid {
				if code := prodays.ErrorCode(err); code != prodays.EImportInvalid {
					t.Errorf("error code: got %q (%v), want %q", code, err, prodays.EImportInvalid)
				}
				if after := checksum(t, db); after != before {
					t.Errorf("the database changed after a refused import")
				}
				if rep.Imported {
					t.Errorf("report says imported")
				}
				return
			}
			if err != nil {
				t.Fatalf("import: %v", err)
			}
			c := rep.Counts["trainees"]
			if tt.file != "trainees.csv" && tt.file != "trainees.xlsx" {
				return
			}
			if c.Inserted != tt.inserted || c.Skipped != tt.skipped {
				t.Errorf("counts: got %+v, want %d inserted, %d skipped", c, tt.inserted, tt.skipped)
			}
			if n := count(t, db, "SELECT count(*) FROM trainees"); n != tt.inserted {
				t.Errorf("trainees: got %d, want %d", n, tt.inserted)
			}
			if n := count(t, db, "SELECT count(*) FROM trainees WHERE gender NOT IN ('', 'F', 'M') OR last_name LIKE '% ' OR last_name LIKE ' %'"); n != 0 {
				t.Errorf("%d trainees with untrimmed values", n)
			}
		})
	}
}

// TestImportXLSXValues checks what an XLSX import stores: trimmed, free
// column order, short rows padded, formula-like text kept as text.
func TestImportXLSXValues(t *testing.T) {
	db := baseDB(t)
	path := filepath.Join(t.TempDir(), "roster.xlsx")
	f := excelize.NewFile()
	m1 := matricule(26, 105, 42)
	for i, r := range [][]any{
		{"establishment_code", "trainee_id", "last_name", "first_name", "program"},
		{"EFP0105", m1, "  N'Diaye ", "Ilham 🇲🇦", "=SUM(A1)"},
	} {
		f.SetSheetRow("Sheet1", fmt.Sprintf("A%d", i+1), &r)
	}
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	if _, err := importer.ImportFile(context.Background(), db, path, "trainees", importer.Options{}); err != nil {
		t.Fatal(err)
	}
	var last, first, program string
	db.Read.QueryRow(`SELECT last_name, first_name, program FROM trainees WHERE id = ?`, m1).Scan(&last, &first, &program)
	if last != "N'Diaye" || first != "Ilham 🇲🇦" || program != "=SUM(A1)" {
		t.Errorf("got %q %q %q", last, first, program)
	}
}

// endlessCSV streams a CSV of n bytes without holding it, counting what
// was read.
type endlessCSV struct {
	n, read int64
}

func (e *endlessCSV) Read(p []byte) (int, error) {
	if e.read >= e.n {
		return 0, io.EOF
	}
	line := []byte("F2501050000" + "1A,Nom,Prénom,EFP0105,,,F\n")
	k := 0
	for k < len(p) && e.read < e.n {
		p[k] = line[int(e.read)%len(line)]
		k++
		e.read++
	}
	return k, nil
}

// TestImportStreamTooLarge refuses a 100 MB upload by size, having read
// only a little over the cap.
func TestImportStreamTooLarge(t *testing.T) {
	db := dbtest.Open(t)
	src := &endlessCSV{n: 100 << 20}
	r := io.MultiReader(strings.NewReader(traineeHeader), src)
	const limit = 1 << 20
	rep, err := importer.Import(context.Background(), db, r, "upload.csv", "trainees", importer.Options{MaxBytes: limit})
	if prodays.ErrorCode(err) != prodays.EImportInvalid || len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0].Message, "larger than the limit of 1 MB") {
		t.Fatalf("got %v %v", err, rep)
	}
	if src.read > 2*limit {
		t.Errorf("read %d bytes of a %d-byte cap", src.read, limit)
	}
}

func TestImportDirBothCSVAndXLSX(t *testing.T) {
	db := dbtest.Open(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "trainees.csv"), []byte(traineeHeader), 0o600)
	os.WriteFile(filepath.Join(dir, "trainees.xlsx"), []byte("x"), 0o600)
	_, err := importer.ImportDir(context.Background(), db, dir, importer.Options{})
	var pe *prodays.Error
	if !errors.As(err, &pe) || pe.Code != prodays.EImportInvalid || !strings.Contains(fmt.Sprint(pe.Detail["errors"]), "several files of kind trainees") {
		t.Fatalf("got %v", err)
	}
}

// TestImportUpdates changes one value: one row updated, one change-log
// entry moved, the others unchanged.
func TestImportUpdates(t *testing.T) {
	db := baseDB(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "trainees.csv")
	m1, m2 := matricule(25, 105, 1), matricule(25, 105, 2)
	os.WriteFile(path, []byte(traineeHeader+m1+",A,B,EFP0105,,,F\n"+m2+",C,D,EFP0105,,,M\n"), 0o600)
	ctx := context.Background()
	if _, err := importer.ImportFile(ctx, db, path, "", importer.Options{}); err != nil {
		t.Fatal(err)
	}
	seq := count(t, db, "SELECT max(seq) FROM changes")
	os.WriteFile(path, []byte(traineeHeader+m1+",A,B,EFP0105,,,F\n"+m2+",C,D,EFP0130,,,M\n"), 0o600)
	rep, err := importer.ImportFile(ctx, db, path, "", importer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c := rep.Counts["trainees"]; c != (importer.Counts{Updated: 1, Unchanged: 1}) {
		t.Errorf("counts: got %+v", c)
	}
	if got := count(t, db, fmt.Sprintf("SELECT count(*) FROM changes WHERE seq > %d AND entity_id = '%s' AND establishment_code = 'EFP0130' AND region_code = 'TTA'", seq, m2)); got != 1 {
		t.Errorf("change-log entries after the update: got %d, want 1", got)
	}
	if got := count(t, db, "SELECT version FROM trainees WHERE id = '"+m2+"'"); got != 2 {
		t.Errorf("version: got %d, want 2", got)
	}
}

// TestImportActivityMovesPresences: an activity re-imported with another
// establishment takes its presences to the new scope: a delete of each
// under the former keys (the former establishment's phones drop it), and
// each row a new seq (the new establishment's phones pull it). A change of
// title alone leaves them be.
func TestImportActivityMovesPresences(t *testing.T) {
	db := baseDB(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "activities.csv")
	write := func(est, title string) {
		t.Helper()
		os.WriteFile(path, []byte(activityHeader+"MTG-1,meeting,"+title+",2026-03-23,08:30,10:00,"+est+",,TTA,20,SPK-0001\n"), 0o600)
		if _, err := importer.ImportFile(ctx, db, path, "", importer.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	write("EFP0105", "Rencontre")
	if _, err := db.Write.Exec(`INSERT INTO attendance (activity_id, person_kind, person_id, present, updated_at, seq) VALUES
		('MTG-1', 'speaker', 'SPK-0001', 1, 'x', 1), ('MTG-1', 'trainee', 'T1', 1, 'x', 2)`); err != nil {
		t.Fatal(err)
	}
	seq := count(t, db, "SELECT seq FROM sqlite_sequence WHERE name = 'changes'")
	write("EFP0105", "Rencontre des métiers")
	if got := count(t, db, "SELECT max(seq) FROM attendance"); got != 2 {
		t.Errorf("a new title moved the presences: max seq %d, want 2", got)
	}
	write("EFP0130", "Rencontre des métiers")
	if got := count(t, db, fmt.Sprintf("SELECT count(*) FROM attendance WHERE activity_id = 'MTG-1' AND seq > %d", seq)); got != 2 {
		t.Errorf("presences with a new seq: got %d, want 2", got)
	}
	if got := count(t, db, fmt.Sprintf(`SELECT count(*) FROM changes WHERE seq > %d AND entity = 'attendance' AND op = 'delete'
		AND establishment_code = 'EFP0105' AND region_code = 'TTA' AND entity_id IN ('MTG-1:speaker:SPK-0001', 'MTG-1:trainee:T1')`, seq)); got != 2 {
		t.Errorf("deletes under the former establishment: got %d, want 2", got)
	}
	if got := count(t, db, "SELECT count(DISTINCT seq) FROM attendance"); got != 2 {
		t.Errorf("distinct seqs: got %d, want 2", got)
	}
}
