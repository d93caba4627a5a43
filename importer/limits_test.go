package importer_test

import (
	"archive/zip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"prodays/internal/dbtest"
	"prodays/internal/xlsxtest"
	"testing"

	"prodays"
	"prodays/importer"
	"prodays/internal/shared"
)

// csvToXLSX saves the CSV file src as an XLSX workbook at dst, the way a
// spreadsheet saves it (text cells in the shared strings table), and
// returns what the workbook inflates to.
func csvToXLSX(tb testing.TB, src, dst string) int64 {
	tb.Helper()
	header, recs := readCSVFile(tb, src)
	if err := os.WriteFile(dst, xlsxtest.Workbook(tb, append([][]string{header}, recs...)), 0o644); err != nil {
		tb.Fatal(err)
	}
	zr, err := zip.OpenReader(dst)
	if err != nil {
		tb.Fatal(err)
	}
	defer zr.Close()
	var n int64
	for _, zf := range zr.File {
		n += int64(zf.UncompressedSize64)
	}
	return n
}

// TestImportFullEditionXLSX imports the 2026 edition saved as XLSX with
// the default limits: every file is accepted, with the counts of the CSV
// files. The biggest, trainees, inflates to 13.8 MB: the default cap
// (64 MiB) is that times 4.6.
func TestImportFullEditionXLSX(t *testing.T) {
	if testing.Short() {
		t.Skip("converts the full edition to XLSX")
	}
	src := shared.Dir(t, "datasets/prodays-2026")
	dir := t.TempDir()
	for kind := range tableOfKind {
		n := csvToXLSX(t, filepath.Join(src, kind+".csv"), filepath.Join(dir, kind+".xlsx"))
		t.Logf("%s.xlsx inflates to %d bytes", kind, n)
		if n > importer.DefaultMaxInflatedBytes/4 {
			t.Errorf("%s.xlsx inflates to %d bytes: the default cap leaves less than 4 times that", kind, n)
		}
	}
	db := dbtest.Open(t)
	rep, err := importer.ImportDir(context.Background(), db, dir, importer.Options{})
	if err != nil {
		t.Fatalf("import: %v\n%v", err, rep.Errors)
	}
	for kind, table := range tableOfKind {
		_, recs := readCSVFile(t, filepath.Join(src, kind+".csv"))
		if got, want := count(t, db, "SELECT count(*) FROM "+table), len(recs); got != want {
			t.Errorf("%s: got %d rows, want %d", table, got, want)
		}
	}
}

// TestImportInflatedLimit: a workbook over Options.MaxInflatedBytes
// refuses the run with a too_large error naming the file and the limit.
func TestImportInflatedLimit(t *testing.T) {
	db := baseDB(t)
	path := filepath.Join(t.TempDir(), "trainees.xlsx")
	csv := filepath.Join(t.TempDir(), "trainees.csv")
	body := traineeHeader
	for i := range 2000 {
		body += matricule(25, 105, i+1) + ",Aït Baha,Meryem,EFP0105,Arts culinaires,CUI101,F\n"
	}
	if err := os.WriteFile(csv, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	n := csvToXLSX(t, csv, path)
	rep, err := importer.ImportFile(context.Background(), db, path, "", importer.Options{MaxInflatedBytes: n - 1})
	var pe *prodays.Error
	if !errors.As(err, &pe) || pe.Code != prodays.ETooLarge {
		t.Fatalf("got %v (report %v), want a too_large error", err, rep)
	}
	if pe.Detail["file"] != path || pe.Detail["max_inflated_bytes"] != n-1 {
		t.Errorf("detail %v: want the file and the limit", pe.Detail)
	}
	if got := count(t, db, "SELECT count(*) FROM trainees"); got != 0 {
		t.Errorf("%d trainees imported", got)
	}
	if _, err := importer.ImportFile(context.Background(), db, path, "", importer.Options{MaxInflatedBytes: n}); err != nil {
		t.Errorf("at the limit: %v", err)
	}
}
