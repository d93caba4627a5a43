// Package pdftest reads PDFs back as text with poppler's pdftotext, for
// the tests of the PDF exports.
package pdftest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"golang.org/x/text/unicode/norm"
)

// Tool returns the path of pdftotext, or "" when it is not installed:
// then the caller skips or logs the text checks, unless
// PRODAYS_REQUIRE_PDFTOTEXT=1 (CI), which fails the test here.
func Tool(tb testing.TB) string {
	tb.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("PRODAYS_REQUIRE_PDFTOTEXT") == "1" {
			tb.Fatal("pdftotext not found (Debian: apt-get install poppler-utils); PRODAYS_REQUIRE_PDFTOTEXT=1 makes this a failure")
		}
		return ""
	}
	return bin
}

// Text returns the text of the PDF data, NFKC-normalised, as pdftotext
// bin reads it with the extra args (e.g. "-layout"); data goes through a
// temporary file in dir. Data that is not a PDF is an error.
func Text(bin, dir string, data []byte, args ...string) (string, error) {
	if !bytes.HasPrefix(data, []byte("%PDF-")) {
		return "", fmt.Errorf("not a PDF: %q", data[:min(len(data), 40)])
	}
	f, err := os.CreateTemp(dir, "pdftest-*.pdf")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	out, err := exec.Command(bin, append(append(args, "-enc", "UTF-8", f.Name()), "-")...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("pdftotext: %v: %s", err, out)
	}
	return norm.NFKC.String(string(out)), nil
}
