package api

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// TestWriteJSONCompressesLargeOnly: an answer under gzipMinBytes goes
// uncompressed even to a client that accepts gzip; a larger one is
// compressed only for such a client; every answer says Vary and decodes
// to the JSON of the value, whose size writeJSONSize returns.
func TestWriteJSONCompressesLargeOnly(t *testing.T) {
	small := map[string]string{"status": "applied"}
	large := map[string]string{"rows": strings.Repeat("présence ", 400)}
	for _, tc := range []struct {
		name     string
		v        any
		accept   string
		wantGzip bool
	}{
		{"small, gzip accepted", small, "gzip, deflate", false},
		{"large, gzip accepted", large, "gzip, deflate", true},
		{"large, gzip refused", large, "gzip;q=0", false},
		{"large, no Accept-Encoding", large, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := json.Marshal(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, '\n')
			req := httptest.NewRequest("GET", "/", nil)
			if tc.accept != "" {
				req.Header.Set("Accept-Encoding", tc.accept)
			}
			rec := httptest.NewRecorder()
			n, err := writeJSONSize(echo.New().NewContext(req, rec), http.StatusCreated, tc.v)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Code != http.StatusCreated || n != int64(len(want)) {
				t.Errorf("status %d, size %d; want 201, %d", rec.Code, n, len(want))
			}
			if got := rec.Header().Get("Vary"); got != "Accept-Encoding" {
				t.Errorf("Vary %q", got)
			}
			body := rec.Body.Bytes()
			if got := rec.Header().Get("Content-Encoding") == "gzip"; got != tc.wantGzip {
				t.Fatalf("gzip %v, want %v (JSON of %d bytes, threshold %d)", got, tc.wantGzip, len(want), gzipMinBytes)
			}
			if tc.wantGzip {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				if body, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(body, want) {
				t.Errorf("body %q, want %q", body, want)
			}
		})
	}
}

// TestFreeListSurvivesGC: what a free list keeps is still there after
// garbage collections (a sync.Pool is emptied by two), and it keeps no
// more than its size.
func TestFreeListSurvivesGC(t *testing.T) {
	l := newFreeList[*int](2)
	a, b, c := new(int), new(int), new(int)
	l.keep(a)
	l.keep(b)
	l.keep(c) // full: dropped
	runtime.GC()
	runtime.GC()
	got := map[*int]bool{}
	for range 3 {
		if v, ok := l.take(); ok {
			got[v] = true
		}
	}
	if len(got) != 2 || !got[a] || !got[b] {
		t.Errorf("took %d values (a %v, b %v, c %v), want a and b", len(got), got[a], got[b], got[c])
	}
}

// TestGzipReadersReuse: a recycled reader decompresses its next body whole,
// after one that failed and one that was not read to the end.
func TestGzipReadersReuse(t *testing.T) {
	gz := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(s))
		zw.Close()
		return b.Bytes()
	}
	l := gzipReaderList{newFreeList[*gzip.Reader](1)}
	zr, err := l.get(bytes.NewReader(gz(strings.Repeat("a", 100_000))))
	if err != nil {
		t.Fatal(err)
	}
	io.CopyN(io.Discard, zr, 10) // left unread
	l.put(zr)
	if zr2, err := l.get(strings.NewReader("not gzip")); err == nil {
		t.Fatal("a body that is not gzip was accepted")
	} else {
		l.put(zr2)
	}
	zr3, err := l.get(bytes.NewReader(gz("second body")))
	if err != nil {
		t.Fatal(err)
	}
	if zr3 != zr {
		t.Error("the reader was not recycled")
	}
	if got, err := io.ReadAll(zr3); err != nil || string(got) != "second body" {
		t.Errorf("read %q, %v; want the second body", got, err)
	}
}
