package api

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// TestShedWrites holds the only slot, fills the queue, and checks that
// the next request is refused at once, a queued one after Wait, and that
// a slot freed in time lets a waiting request through.
func TestShedWrites(t *testing.T) {
	s := &Server{Logger: slog.New(slog.DiscardHandler)}
	s.shed = newShedder(ShedOptions{Concurrent: 1, Queue: 1, Wait: 300 * time.Millisecond})
	release := make(chan struct{})
	entered := make(chan struct{}, 10)
	e := echo.New()
	e.HTTPErrorHandler = s.handleError
	e.POST("/w", func(c echo.Context) error {
		entered <- struct{}{}
		<-release
		return c.NoContent(http.StatusNoContent)
	}, s.shedWrites)
	do := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest("POST", "/w", nil))
		return rec
	}
	var wg sync.WaitGroup
	results := make(chan *httptest.ResponseRecorder, 3)
	wg.Add(1)
	go func() { defer wg.Done(); results <- do() }() // takes the slot
	<-entered
	wg.Add(1)
	go func() { defer wg.Done(); results <- do() }() // waits in the queue
	for s.shed.waiting.Load() != 1 {
		time.Sleep(time.Millisecond)
	}
	// Queue full: refused at once.
	start := time.Now()
	rec := do()
	if rec.Code != http.StatusServiceUnavailable || time.Since(start) > 100*time.Millisecond {
		t.Fatalf("queue full: %d after %v", rec.Code, time.Since(start))
	}
	checkShed(t, rec)
	// The queued one times out after Wait.
	got := <-results
	if got.Code != http.StatusServiceUnavailable {
		t.Fatalf("queued: %d, want 503", got.Code)
	}
	checkShed(t, got)
	// A request queued while the slot frees in time goes through.
	wg.Add(1)
	go func() { defer wg.Done(); results <- do() }()
	for s.shed.waiting.Load() != 1 {
		time.Sleep(time.Millisecond)
	}
	release <- struct{}{} // first request ends
	<-entered
	close(release)
	wg.Wait()
	close(results)
	for r := range results {
		if r.Code != http.StatusNoContent {
			t.Fatalf("got %d, want 204", r.Code)
		}
	}
	if n := len(s.shed.slots); n != 0 {
		t.Fatalf("%d slots still held", n)
	}
}

func checkShed(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	ra, err := strconv.Atoi(rec.Header().Get("Retry-After"))
	if err != nil || ra < 1 || ra > 5 {
		t.Fatalf("Retry-After %q", rec.Header().Get("Retry-After"))
	}
	var p map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p["code"] != "unavailable" || rec.Header().Get("Content-Type") != ProblemContentType {
		t.Fatalf("body %s %v", rec.Body.Bytes(), err)
	}
}

// TestRefuseWhenFull: with the only slot taken and the queue full, a
// write request is refused before the middleware after refuseWhenFull
// (the access check on /sync/push) runs; with room, it runs.
func TestRefuseWhenFull(t *testing.T) {
	s := &Server{Logger: slog.New(slog.DiscardHandler)}
	s.shed = newShedder(ShedOptions{Concurrent: 1, Queue: 1, Wait: 5 * time.Second})
	var checks sync.Map
	auth := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			checks.Store(c.Request().Header.Get("X-N"), true)
			return next(c)
		}
	}
	release := make(chan struct{})
	e := echo.New()
	e.HTTPErrorHandler = s.handleError
	e.POST("/w", func(c echo.Context) error {
		<-release
		return c.NoContent(http.StatusNoContent)
	}, s.refuseWhenFull, auth, s.shedWrites)
	do := func(n string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/w", nil)
		req.Header.Set("X-N", n)
		e.ServeHTTP(rec, req)
		return rec
	}
	var wg sync.WaitGroup
	for _, n := range []string{"slot", "queued"} {
		wg.Go(func() {
			if rec := do(n); rec.Code != http.StatusNoContent {
				t.Errorf("%s: %d, want 204", n, rec.Code)
			}
		})
		for len(s.shed.slots) != 1 || (n == "queued" && s.shed.waiting.Load() != 1) {
			time.Sleep(time.Millisecond)
		}
	}
	rec := do("refused")
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("queue full: %d, want 503", rec.Code)
	}
	checkShed(t, rec)
	if _, ok := checks.Load("refused"); ok {
		t.Error("the refused request went through the access check")
	}
	for _, n := range []string{"slot", "queued"} {
		if _, ok := checks.Load(n); !ok {
			t.Errorf("%s: no access check", n)
		}
	}
	close(release)
	wg.Wait()
}
