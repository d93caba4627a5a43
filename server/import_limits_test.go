package main

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sheetOf3MB writes a workbook whose first sheet inflates to 3 MB (one
// header row, then rows of one text cell).
func sheetOf3MB(t *testing.T, path string) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range map[string]string{
		"[Content_Types].xml":        `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>`,
		"_rels/.rels":                `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
		"xl/workbook.xml":            `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`,
	} {
		w, _ := zw.Create(name)
		io.WriteString(w, body)
	}
	w, _ := zw.Create("xl/worksheets/sheet1.xml")
	io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row><c t="inlineStr"><is><t>code</t></is></c></row>`)
	row := `<row><c t="inlineStr"><is><t>` + strings.Repeat("x", 64) + `</t></is></c></row>`
	for n := 0; n < 3<<20; n += len(row) {
		io.WriteString(w, row)
	}
	io.WriteString(w, `</sheetData></worksheet>`)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestImportCommandInflatedLimit: `prodays import` of a workbook that
// inflates past --import-max-inflated-mb (or PRODAYS_IMPORT_MAX_INFLATED_MB)
// exits 1 with a message naming the file, the limit and the flag.
func TestImportCommandInflatedLimit(t *testing.T) {
	db := filepath.Join(t.TempDir(), "prodays.db")
	path := filepath.Join(t.TempDir(), "establishments.xlsx")
	sheetOf3MB(t, path)
	code, stdout, stderr := runCLI(t, "", "import", "--db", db, "--import-max-inflated-mb", "2", path)
	t.Logf("exit %d\n%s%s", code, stdout, stderr)
	if code != 1 || !strings.Contains(stderr, path+": the workbook inflates to more than 2 MB") || !strings.Contains(stderr, "--import-max-inflated-mb") {
		t.Errorf("over the flag's limit: exit %d\n%s%s", code, stdout, stderr)
	}
	t.Setenv("PRODAYS_IMPORT_MAX_INFLATED_MB", "1")
	if code, stdout, stderr := runCLI(t, "", "import", "--db", db, path); code != 1 || !strings.Contains(stderr, "more than 1 MB") {
		t.Errorf("over the environment's limit: exit %d\n%s%s", code, stdout, stderr)
	}
	// Under the limit, the file is read (and refused for its content).
	if code, stdout, stderr := runCLI(t, "", "import", "--db", db, "--import-max-inflated-mb", "4", path); code != 1 || !strings.Contains(stderr, "region_code") {
		t.Errorf("under the limit: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, _, _ := runCLI(t, "", "import", "--db", db, "--import-max-inflated-mb", "0", path); code != 2 {
		t.Errorf("--import-max-inflated-mb 0: exit %d, want 2", code)
	}
}
