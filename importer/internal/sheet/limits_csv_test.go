package sheet

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// repeatReader yields piece n times, then EOF, without holding the whole.
type repeatReader struct {
	piece []byte
	n     int
	off   int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	w := 0
	for w < len(p) && r.n > 0 {
		c := copy(p[w:], r.piece[r.off:])
		w += c
		if r.off += c; r.off == len(r.piece) {
			r.off, r.n = 0, r.n-1
		}
	}
	if w == 0 {
		return 0, io.EOF
	}
	return w, nil
}

// TestReadCSVWithinLimits reads 50 MB CSV files (the default size cap)
// built to cost the most memory per byte: one line of 25 million empty
// fields, 25 million one-letter lines, lines of 1,000 one-letter fields.
// Each is refused with an issue, and the test process's peak RSS (VmHWM)
// stays under 200 MB. Before MaxRecordBytes, MaxRows and MaxCells, all
// three were read whole, and the second took the process to 4.8 GB.
func TestReadCSVWithinLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 50 MB files")
	}
	const size = 50 << 20
	cases := []struct {
		name string
		r    io.Reader
	}{
		{"one line of 25M fields", io.MultiReader(strings.NewReader("trainee_id\n"), &repeatReader{piece: []byte(","), n: size - 20})},
		{"25M lines", io.MultiReader(strings.NewReader("trainee_id\n"), &repeatReader{piece: []byte("a\n"), n: size/2 - 20})},
		{"lines of 1,000 fields", io.MultiReader(strings.NewReader("trainee_id\n"), &repeatReader{piece: append(bytes.Repeat([]byte("a,"), 999), "a\n"...), n: size / 2000})},
	}
	for _, c := range cases {
		sh, issues, err := ReadCSV("t.csv", c.r, size)
		peak := peakRSS(t)
		rows := 0
		if sh != nil {
			rows = len(sh.Rows)
		}
		t.Logf("%s: %d rows, issues %v, err %v; peak RSS so far %d MB", c.name, rows, issues, err, peak>>20)
		if err != nil || len(issues) == 0 {
			t.Errorf("%s: %d rows, error %v; want an issue", c.name, rows, err)
		}
		if peak > 200<<20 {
			t.Errorf("%s: peak RSS %d MB, want under 200 MB", c.name, peak>>20)
		}
	}
}
