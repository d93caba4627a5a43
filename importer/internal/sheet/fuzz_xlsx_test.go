package sheet

import (
	"bytes"
	"errors"
	"prodays/internal/xlsxtest"
	"testing"
	"unicode/utf8"
)

// FuzzReadXLSX feeds the XLSX reader arbitrary bytes, seeded with real
// workbooks: it must never panic, and what it accepts must be valid UTF-8
// with no NUL and increasing row numbers.
func FuzzReadXLSX(f *testing.F) {
	f.Add(xlsxtest.Workbook(f, [][]any{{"trainee_id", "last_name"}, {"F25010500169V", "Kettani"}}))
	f.Add(xlsxtest.Workbook(f, [][]any{{"code", "name", "city", "region_code"}, {"EFP0105", "ISTA Tanger", "Tanger", "TTA"}, {}, {"EFP0130", "=HYPERLINK(\"x\")", "آيت", "TTA"}}))
	f.Add([]byte("PK\x03\x04garbage"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		sh, issues, err := ReadXLSX("f.xlsx", bytes.NewReader(data), Limits{MaxBytes: 1 << 20, MaxInflatedBytes: 8 << 20})
		var ie *InflatedError
		if errors.As(err, &ie) {
			return
		}
		if err != nil {
			t.Fatalf("reader error on an in-memory input: %v", err)
		}
		if sh == nil || len(issues) > 0 {
			return
		}
		last := 0
		for _, r := range sh.Rows {
			if r.Line <= last {
				t.Fatalf("row %d after row %d", r.Line, last)
			}
			last = r.Line
			for _, fld := range r.Fields {
				if !utf8.ValidString(fld) || bytes.IndexByte([]byte(fld), 0) >= 0 {
					t.Fatalf("accepted field %q", fld)
				}
			}
		}
	})
}
