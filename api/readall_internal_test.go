package api

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// TestReadAll: a body is read whole whatever its declared size says, and
// a declared size does not make a buffer larger than preallocMax before
// the bytes arrive (a client declaring 2 MiB and sending 6 bytes).
func TestReadAll(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789"), 20_000) // 200 KB
	for _, c := range []struct {
		name     string
		body     []byte
		declared int64
	}{
		{"exact", big, int64(len(big))},
		{"declared less", big, 10},
		{"declared more", []byte(`{"a":1}`), 2 << 20},
		{"unknown", big, -1},
		{"empty", nil, 0},
	} {
		got, err := readAll(bytes.NewReader(c.body), c.declared)
		if err != nil || !bytes.Equal(got, c.body) {
			t.Errorf("%s: %d bytes, %v; want the %d bytes sent", c.name, len(got), err, len(c.body))
		}
	}
	got, err := readAll(io.LimitReader(strings.NewReader("abcdef"), 6), 2<<20)
	if err != nil || string(got) != "abcdef" || cap(got) > preallocMax {
		t.Errorf("2 MiB declared, 6 bytes sent: %q, cap %d, %v; want the 6 bytes in at most %d", got, cap(got), err, preallocMax)
	}
}
