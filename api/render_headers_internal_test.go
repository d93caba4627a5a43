package api

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// TestWriteJSONEncodingError: a value that cannot be encoded is a clean
// 500 problem+json (nothing written before), with or without gzip.
func TestWriteJSONEncodingError(t *testing.T) {
	for _, accept := range []string{"", "gzip"} {
		s := &Server{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		e := echo.New()
		e.HTTPErrorHandler = s.handleError
		big := map[string]any{"rows": strings.Repeat("x", 5000), "bad": make(chan int)}
		e.GET("/", func(c echo.Context) error { return writeJSON(c, 200, big) })
		req := httptest.NewRequest("GET", "/", nil)
		if accept != "" {
			req.Header.Set("Accept-Encoding", accept)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != 500 || rec.Header().Get("Content-Type") != ProblemContentType || rec.Header().Get("Content-Encoding") != "" {
			t.Errorf("accept %q: %d %v %s", accept, rec.Code, rec.Header(), rec.Body)
		}
		var p map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p["code"] != "internal" {
			t.Errorf("accept %q: body %s: %v", accept, rec.Body, err)
		}
	}
}

// TestGzipReaderKeepsNoBody: a reader kept in the free list holds no
// reference to the body it last read (the request's cappedBody holds the
// *http.Request and its ResponseWriter).
func TestGzipReaderKeepsNoBody(t *testing.T) {
	l := gzipReaderList{newFreeList[*gzip.Reader](1)}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(`{"a":1}`))
	zw.Close()
	type body struct {
		io.Reader
		_ [1 << 10]byte
	}
	src := &body{Reader: bytes.NewReader(b.Bytes())}
	freed := make(chan struct{})
	runtime.SetFinalizer(src, func(*body) { close(freed) })
	zr, err := l.get(src)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(zr)
	l.put(zr)
	src, zr = nil, nil
	defer runtime.KeepAlive(l.free) // the list lives as long as the server
	for range 5 {
		runtime.GC()
		select {
		case <-freed:
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Error("the kept gzip reader still references the last request's body")
}

// TestWriteJSONContentLength: an uncompressed answer says its length (it
// is known: the JSON is encoded whole first), so it is not chunked.
func TestWriteJSONContentLength(t *testing.T) {
	for _, v := range []any{map[string]string{"a": "b"}, map[string]string{"rows": strings.Repeat("x", 5000)}} {
		req := httptest.NewRequest("GET", "/", nil)
		rec := httptest.NewRecorder()
		writeJSON(echo.New().NewContext(req, rec), http.StatusOK, v)
		if got, want := rec.Header().Get("Content-Length"), strconv.Itoa(rec.Body.Len()); got != want {
			t.Errorf("Content-Length %q, want %s", got, want)
		}
	}
}
