package export_test

// Reading the exported PDFs back as text with poppler's pdftotext
// (internal/pdftest); pdfPages, page by page, is in certificates_test.go.

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"prodays/internal/pdftest"
)

// pdfText extracts the text of a PDF with poppler's pdftotext (a real
// reader), normalised NFKC so that Arabic presentation forms compare equal
// to the letters. Without pdftotext the test is skipped, unless
// PRODAYS_REQUIRE_PDFTOTEXT=1 (CI), which makes it a failure. With
// PRODAYS_KEEP_PDF=<dir> the PDF is also written there, to be looked at.
func pdfText(t *testing.T, name string, data []byte) string {
	t.Helper()
	if !bytes.HasPrefix(data, []byte("%PDF-")) {
		t.Fatalf("%s is not a PDF: %q", name, data[:min(len(data), 20)])
	}
	if dir := os.Getenv("PRODAYS_KEEP_PDF"); dir != "" {
		os.WriteFile(filepath.Join(dir, name), data, 0o644)
	}
	bin := pdftest.Tool(t)
	if bin == "" {
		t.Skip("pdftotext not found (Debian: apt-get install poppler-utils): cannot read the PDF back")
	}
	text, err := pdftest.Text(bin, t.TempDir(), data, "-layout")
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return text
}

// mustContain checks that every want is in text, both NFKC and with runs
// of white space (line breaks of wrapped paragraphs, layout gaps) as one
// space.
func mustContain(t *testing.T, text string, wants ...string) {
	t.Helper()
	flat := strings.Join(strings.Fields(text), " ")
	for _, w := range wants {
		if !strings.Contains(flat, strings.Join(strings.Fields(norm.NFKC.String(w)), " ")) {
			t.Errorf("PDF text lacks %q", w)
		}
	}
}
