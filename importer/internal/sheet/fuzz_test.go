package sheet

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzReadCSV feeds the CSV reader arbitrary bytes: it must never panic,
// every issue must name a line inside the input, and what it accepts must
// be valid UTF-8 text with line numbers that grow.
func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{
		"trainee_id,last_name\nF25010500169V,Kettani\n",
		"\ufeffa;b;c\r\n1;\"x;y\";3\r\n",
		"a,b\n\"multi\nline\",\"q\"\"uote\"\n2,3\n",
		"a,b\n1,2,3\n4\n",
		"a,b\n\"unterminated,2\n",
		"a,b\nH\xe9l\xe8ne,2\n",
		"\x00\x01\x02",
		"",
		"\n\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sh, issues, err := ReadCSV("f.csv", bytes.NewReader(data), 1<<20)
		if err != nil {
			t.Fatalf("reader error on an in-memory input: %v", err)
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, is := range issues {
			if is.Line < 0 || is.Line > lines {
				t.Fatalf("issue on line %d of a %d-line input: %v", is.Line, lines, is)
			}
		}
		if sh == nil || len(issues) > 0 {
			return
		}
		last := 1
		for _, r := range sh.Rows {
			if r.Line <= last || r.Line > lines {
				t.Fatalf("row on line %d after.Line %d (input has %d lines)", r.Line, last, lines)
			}
			last = r.Line
			for _, fld := range r.Fields {
				if !utf8.ValidString(fld) || strings.IndexByte(fld, 0) >= 0 {
					t.Fatalf("accepted field %q", fld)
				}
			}
		}
	})
}
