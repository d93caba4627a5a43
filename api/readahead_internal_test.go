package api

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// readAheadServer is a Server whose write route /w (capBodies, then
// shedWrites) answers the length and SHA-256 of the body its handler
// reads, or 413 on *http.MaxBytesError, as the real handlers do; /big
// lifts the cap (handlerCapsBody), as the import and push routes do.
func readAheadServer(opt ShedOptions, maxBody int64) (*Server, *echo.Echo) {
	s := &Server{Logger: slog.New(slog.DiscardHandler), MaxBodyBytes: maxBody}
	s.shed = newShedder(opt)
	e := echo.New()
	e.HTTPErrorHandler = s.handleError
	e.Use(s.capBodies)
	h := func(c echo.Context) error {
		b, err := io.ReadAll(c.Request().Body)
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return c.NoContent(http.StatusRequestEntityTooLarge)
		}
		if err != nil {
			return c.String(http.StatusBadRequest, err.Error())
		}
		sum := sha256.Sum256(b)
		return c.String(http.StatusOK, strconv.Itoa(len(b))+" "+string(sum[:4]))
	}
	e.POST("/w", h, s.shedWrites)
	e.POST("/big", h, handlerCapsBody, s.shedWrites)
	return s, e
}

// TestReadAheadBodies: what the handler reads after readAhead is the
// body, whole, whatever its size and framing, and the cap's error is the
// one it gets: a body under the cap, one declared over it, one chunked
// over it, one past readAheadMax on a route without the default cap (read
// partly in the slot), an empty one. The budget is back to zero after
// each.
func TestReadAheadBodies(t *testing.T) {
	s, e := readAheadServer(ShedOptions{}, 1<<20)
	big := bytes.Repeat([]byte("0123456789abcdef"), (3<<20)/16+7) // 3 MiB and 112 bytes
	small := big[:70_000]
	want := func(b []byte) string {
		sum := sha256.Sum256(b)
		return strconv.Itoa(len(b)) + " " + string(sum[:4])
	}
	cases := []struct {
		name, path string
		body       []byte
		chunked    bool
		code       int
		answer     string
	}{
		{"small", "/w", small, false, http.StatusOK, want(small)},
		{"small chunked", "/w", small, true, http.StatusOK, want(small)},
		{"over the cap", "/w", big[:2<<20], false, http.StatusRequestEntityTooLarge, ""},
		{"over the cap chunked", "/w", big[:2<<20], true, http.StatusRequestEntityTooLarge, ""},
		{"past readAheadMax", "/big", big, false, http.StatusOK, want(big)},
		{"past readAheadMax chunked", "/big", big, true, http.StatusOK, want(big)},
		{"empty", "/w", nil, false, http.StatusOK, want(nil)},
	}
	for _, tc := range cases {
		var body io.Reader = bytes.NewReader(tc.body)
		if tc.chunked {
			body = io.MultiReader(body) // no length: ContentLength -1
		}
		req := httptest.NewRequest("POST", tc.path, body)
		if tc.chunked {
			req.ContentLength = -1
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != tc.code || (tc.answer != "" && rec.Body.String() != tc.answer) {
			t.Errorf("%s: %d %q, want %d %q", tc.name, rec.Code, rec.Body.String(), tc.code, tc.answer)
		}
		if used := s.shed.bodies.used.Load(); used != 0 {
			t.Errorf("%s: %d bytes of the budget still taken after the answer", tc.name, used)
		}
	}
}

// TestReadAheadBudget: a body arriving slowly holds the budget it has
// grown into, not a slot; while it holds most of it, a request that needs
// more is refused 503 with Retry-After at once; once the first is
// answered the budget is whole again and the second goes through.
func TestReadAheadBudget(t *testing.T) {
	s, e := readAheadServer(ShedOptions{Concurrent: 1, Queue: 1, Wait: time.Second, BodyBudget: 128 << 10}, 1<<20)
	pr, pw := io.Pipe()
	t.Cleanup(func() { pr.CloseWithError(io.ErrClosedPipe) })
	write := func(b []byte) {
		t.Helper()
		done := make(chan error, 1)
		go func() { _, err := pw.Write(b); done <- err }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the slow body is no longer read")
		}
	}
	const declared = 120 << 10
	slow := httptest.NewRequest("POST", "/w", pr)
	slow.ContentLength = declared
	answered := make(chan *httptest.ResponseRecorder)
	go func() {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, slow)
		answered <- rec
	}()
	write(bytes.Repeat([]byte("x"), 100<<10)) // 64 KiB of buffer, then its declared length and one byte
	for s.shed.bodies.used.Load() != declared+1 {
		time.Sleep(time.Millisecond)
	}
	if len(s.shed.slots) != 0 {
		t.Fatalf("a body still arriving holds %d slot(s), want 0", len(s.shed.slots))
	}
	post := func(n int) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest("POST", "/w", bytes.NewReader(make([]byte, n))))
		return rec
	}
	start := time.Now()
	rec := post(10_000) // 10,001 bytes of buffer: 8,191 are left
	if rec.Code != http.StatusServiceUnavailable || time.Since(start) > 500*time.Millisecond {
		t.Fatalf("with the budget spent: %d after %v, want 503 at once", rec.Code, time.Since(start))
	}
	checkShed(t, rec)
	write(bytes.Repeat([]byte("x"), declared-100<<10))
	pw.Close()
	if got := <-answered; got.Code != http.StatusOK || got.Body.String()[:7] != "122880 " {
		t.Fatalf("the slow body: %d %q, want 200 with its 122880 bytes", got.Code, got.Body.String())
	}
	if used := s.shed.bodies.used.Load(); used != 0 {
		t.Fatalf("budget after the slow body's answer: %d bytes taken, want 0", used)
	}
	if rec := post(10_000); rec.Code != http.StatusOK {
		t.Fatalf("after the slow body: %d, want 200", rec.Code)
	}
}
