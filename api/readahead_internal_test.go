package api

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"prodays"
)

// readAheadServer is a Server whose write route /w (capBodies, then
// shedWrites, as the user "tester") answers the length and SHA-256 of the
// body its handler reads, or 413 on *http.MaxBytesError, as the real
// handlers do; /big lifts the cap (handlerCapsBody), as the import and
// push routes do; /anon is /w without a user, as the logins' routes.
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
	e.POST("/w", h, asUser("tester"), s.shedWrites)
	e.POST("/big", h, asUser("tester"), handlerCapsBody, s.shedWrites)
	e.POST("/anon", h, s.shedWrites)
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
		if used := s.shed.bodies.inUse(); used != 0 {
			t.Errorf("%s: %d bytes of the budget still taken after the answer", tc.name, used)
		}
	}
}

// TestReadAheadBudget: a body arriving slowly holds the budget it has
// grown into, not a slot; while it holds most of the budget (128 KiB
// here), a request that needs more is refused 503 with Retry-After at
// once; once the first is
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
	for s.shed.bodies.inUse() != declared+1 {
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
	rec := post(10_000) // 4 KiB, then 8 KiB of buffer: 8,191 bytes are left
	if rec.Code != http.StatusServiceUnavailable || time.Since(start) > 500*time.Millisecond {
		t.Fatalf("with the budget spent: %d after %v, want 503 at once", rec.Code, time.Since(start))
	}
	checkShed(t, rec)
	write(bytes.Repeat([]byte("x"), declared-100<<10))
	pw.Close()
	if got := <-answered; got.Code != http.StatusOK || got.Body.String()[:7] != "122880 " {
		t.Fatalf("the slow body: %d %q, want 200 with its 122880 bytes", got.Code, got.Body.String())
	}
	if used := s.shed.bodies.inUse(); used != 0 {
		t.Fatalf("budget after the slow body's answer: %d bytes taken, want 0", used)
	}
	if rec := post(10_000); rec.Code != http.StatusOK {
		t.Fatalf("after the slow body: %d, want 200", rec.Code)
	}
}

// TestReadAheadJSONRouteCap (review of de255b1): decodeJSON lifts the
// default cap of a JSON route to its own (1 MiB) after readAhead has read
// the body: with --max-body-bytes 16384, a 20 KB JSON body is accepted,
// as before readAhead (de255b1 answered 413 too_large, max_bytes
// 1048576). A route's own cap (the logins') is not lifted, and its 413
// names it.
func TestReadAheadJSONRouteCap(t *testing.T) {
	s, e := readAheadServer(ShedOptions{}, 16<<10)
	type req struct {
		P string `json:"p"`
	}
	e.POST("/json", jsonAction(func(c echo.Context, r req) error { return nil }), s.shedWrites)
	body := `{"p":"` + strings.Repeat("x", 20_000) + `"}`
	r := httptest.NewRequest("POST", "/json", bytes.NewReader([]byte(body)))
	r.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, r)
	if rec.Code != http.StatusNoContent {
		t.Fatalf("20 KB JSON body with --max-body-bytes 16384 on a route capped at 1 MiB by decodeJSON: %d %s; want 204", rec.Code, rec.Body.String())
	}
	e.POST("/login", jsonAction(func(c echo.Context, r req) error { return nil }), bodyLimit(authMaxBody), s.shedWrites)
	r = httptest.NewRequest("POST", "/login", bytes.NewReader([]byte(body)))
	r.Header.Set("Content-Type", "application/json")
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, r)
	if rec.Code != http.StatusNoContent {
		t.Fatalf("20 KB JSON body on a route capped at 32 KiB: %d %s; want 204", rec.Code, rec.Body.String())
	}
	r = httptest.NewRequest("POST", "/login", bytes.NewReader([]byte(`{"p":"`+strings.Repeat("x", 40_000)+`"}`)))
	r.Header.Set("Content-Type", "application/json")
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, r)
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), `"max_bytes":32768`) {
		t.Fatalf("40 KB JSON body on a route capped at 32 KiB: %d %s; want 413 with max_bytes 32768", rec.Code, rec.Body.String())
	}
}

// TestReadAheadBudgetReturns: the budget is back to zero
// after a handler panic, a slot refusal (queue full), a refusal midway
// through a body (budget spent while it grows) and a body whose read
// fails (truncated).
func TestReadAheadBudgetReturns(t *testing.T) {
	s, e := readAheadServer(ShedOptions{Concurrent: 1, Queue: 1, Wait: 50 * time.Millisecond, BodyBudget: 1 << 20}, 4<<20)
	e.POST("/panic", func(c echo.Context) error { io.ReadAll(c.Request().Body); panic("boom") }, handlerCapsBody, s.shedWrites)
	hold := make(chan struct{})
	e.POST("/hold", func(c echo.Context) error { <-hold; return c.NoContent(204) }, s.shedWrites)
	zero := func(what string) {
		t.Helper()
		if u := s.shed.bodies.inUse(); u != 0 {
			t.Errorf("%s: %d bytes of the budget still taken", what, u)
		}
	}
	func() {
		defer func() { recover() }()
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/panic", bytes.NewReader(make([]byte, 300_000))))
	}()
	zero("after a panic")
	// Slots: one held, one waiting, the next refused.
	go e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/hold", strings.NewReader("x")))
	time.Sleep(20 * time.Millisecond)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest("POST", "/w", bytes.NewReader(make([]byte, 100_000))))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("with the slot held: %d, want 503", rec.Code)
	}
	close(hold)
	time.Sleep(20 * time.Millisecond)
	zero("after a slot refusal")
	// A body larger than the whole budget: refused while it grows.
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest("POST", "/big", bytes.NewReader(make([]byte, 3<<20))))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("a 3 MiB body with a 1 MiB budget: %d, want 503", rec.Code)
	}
	zero("after a refusal midway")
	pr, pw := io.Pipe()
	go func() { pw.Write(make([]byte, 70_000)); pw.CloseWithError(io.ErrUnexpectedEOF) }()
	req := httptest.NewRequest("POST", "/w", pr)
	req.ContentLength = 200_000
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("a truncated body: %d, want 400", rec.Code)
	}
	zero("after a truncated body")
}

// asUser is a route middleware that makes the request a user's, as
// requireAuth would.
func asUser(name string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Set(principalKey, &prodays.Principal{Username: name})
			return next(c)
		}
	}
}

// stall starts n requests to path (as user, "" for none; the i-th from
// addr(i) when addr is not nil) that declare declared bytes and send sent
// of them, and returns once readAhead has
// taken or refused each; the pipes are closed at the test's end.
func stall(t *testing.T, s *Server, e *echo.Echo, path, user string, n int, declared int64, sent int, addr func(i int) string) (refused int) {
	t.Helper()
	if user != "" {
		e.POST(path, func(c echo.Context) error { io.ReadAll(c.Request().Body); return c.NoContent(204) }, asUser(user), handlerCapsBody, s.shedWrites)
	}
	codes := make(chan int, n)
	for i := range n {
		pr, pw := io.Pipe()
		t.Cleanup(func() { pw.CloseWithError(io.ErrClosedPipe) })
		req := httptest.NewRequest("POST", path, pr)
		req.ContentLength = declared
		if addr != nil {
			req.RemoteAddr = addr(i)
		}
		before := s.shed.bodies.inUse()
		go func() {
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			codes <- rec.Code
		}()
		if sent > 0 {
			go pw.Write(make([]byte, sent))
		}
		// Taken (the budget grew) or refused (an answer came).
		for deadline := time.Now().Add(5 * time.Second); ; {
			if s.shed.bodies.inUse() > before {
				break
			}
			select {
			case code := <-codes:
				if code != http.StatusServiceUnavailable {
					t.Fatalf("a stalled request was answered %d, want 503 or no answer", code)
				}
				refused++
			default:
				if time.Now().After(deadline) {
					t.Fatal("a stalled request neither took the budget nor was refused")
				}
				time.Sleep(100 * time.Microsecond)
				continue
			}
			break
		}
	}
	return refused
}

// TestReadAheadAnonymousStallsKeepPushes (review of de255b1): anonymous
// requests (the logins' routes: no token) that stall, from 1,100
// addresses, hold at most the anonymous share of the body budget (an
// eighth), whatever their number:
// at de255b1, 512 of them declaring 65,535 bytes and sending none spent
// the whole 32 MiB, and every push was refused 503 until --read-timeout.
// A user's push still goes through.
func TestReadAheadAnonymousStallsKeepPushes(t *testing.T) {
	s, e := readAheadServer(ShedOptions{}, 1<<20)
	e.POST("/push", func(c echo.Context) error { io.ReadAll(c.Request().Body); return c.NoContent(204) }, asUser("staff1"), handlerCapsBody, s.shedWrites)
	// 4 KiB each at first: the share (4 MiB) holds 1,024 of them.
	each := func(i int) string { return fmt.Sprintf("10.%d.%d.%d:40000", i>>16&255, i>>8&255, i&255) }
	refused := stall(t, s, e, "/anon", "", 1100, 65535, 0, each)
	if refused != 1100-1024 {
		t.Errorf("stalled anonymous requests refused: %d of 1,100, want 76 (the share holds 1,024 of 4 KiB)", refused)
	}
	if used := s.shed.bodies.inUse(); used != DefaultBodyBudget/bodyShares {
		t.Errorf("budget taken by stalled anonymous requests: %d bytes, want their share %d", used, DefaultBodyBudget/bodyShares)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest("POST", "/push", strings.NewReader(`{"mutations":[]}`)))
	if rec.Code != http.StatusNoContent {
		t.Fatalf("a user's push while anonymous requests stall: %d %s; want 204", rec.Code, rec.Body.String())
	}
}

// TestReadAheadUserShare: one user's stalled pushes, having sent 1 MiB
// each of the 2 MiB they declare, hold the user's share (4 MiB of 32) and
// no more, and another user's push goes through.
func TestReadAheadUserShare(t *testing.T) {
	s, e := readAheadServer(ShedOptions{}, 1<<20)
	e.POST("/push", func(c echo.Context) error { io.ReadAll(c.Request().Body); return c.NoContent(204) }, asUser("staff2"), handlerCapsBody, s.shedWrites)
	// 1 MiB sent: each buffer grows to 1 MiB, then to 2 MiB once full;
	// two fill the share, the others are refused on the way.
	stall(t, s, e, "/hostile", "staff1", 4, 2<<20, 1<<20, nil)
	last, steady := int64(-1), 0
	for deadline := time.Now().Add(10 * time.Second); steady < 50 && time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if u := s.shed.bodies.inUse(); u == last {
			steady++
		} else {
			last, steady = u, 0
		}
	}
	if used := s.shed.bodies.inUse(); used != DefaultBodyBudget/bodyShares {
		t.Errorf("one user's four stalled pushes hold %d bytes, want the share %d (two of 2 MiB)", used, DefaultBodyBudget/bodyShares)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest("POST", "/push", strings.NewReader(`{"mutations":[]}`)))
	if rec.Code != http.StatusNoContent {
		t.Fatalf("another user's push while staff1's pushes stall: %d %s; want 204", rec.Code, rec.Body.String())
	}
}

// TestReadAheadAnonymousAddress (second review): the anonymous requests
// of one client address hold at most anonAddrShare (64 KiB: sixteen
// stalled bodies at their first 4 KiB), so one client cannot park the
// anonymous share and turn every login away; a login from another
// address goes through.
func TestReadAheadAnonymousAddress(t *testing.T) {
	s, e := readAheadServer(ShedOptions{}, 1<<20)
	one := func(int) string { return "198.51.100.7:40000" }
	if refused := stall(t, s, e, "/anon", "", 20, 32<<10, 0, one); refused != 4 {
		t.Errorf("stalled anonymous requests of one address refused: %d of 20, want 4", refused)
	}
	if used := s.shed.bodies.inUse(); used != anonAddrShare {
		t.Errorf("budget held by one address: %d bytes, want %d", used, anonAddrShare)
	}
	req := httptest.NewRequest("POST", "/anon", strings.NewReader(`{"username":"staff1"}`))
	req.RemoteAddr = "203.0.113.9:40000"
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("a login from another address: %d %s, want 200", rec.Code, rec.Body.String())
	}
}

// TestReadAheadAddressArrived: the address share bounds bodies arriving,
// not bodies arrived: twenty logins of 4 KiB from one address (80 KiB)
// that wait in their handler, as logins wait for their password check,
// all get there, holding the anonymous share until answered.
func TestReadAheadAddressArrived(t *testing.T) {
	s, e := readAheadServer(ShedOptions{}, 1<<20)
	release, entered := make(chan struct{}), make(chan struct{}, 20)
	e.POST("/login", func(c echo.Context) error {
		io.ReadAll(c.Request().Body)
		entered <- struct{}{}
		<-release
		return c.NoContent(204)
	}, s.shedWrites)
	codes := make(chan int, 20)
	for range 20 {
		req := httptest.NewRequest("POST", "/login", bytes.NewReader(make([]byte, 4<<10)))
		req.RemoteAddr = "198.51.100.7:40000"
		go func() {
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			codes <- rec.Code
		}()
	}
	for i := range 20 {
		select {
		case <-entered:
		case code := <-codes:
			t.Fatalf("login %d of one address answered %d before its handler", i+1, code)
		case <-time.After(10 * time.Second):
			t.Fatalf("%d logins of one address got to their handler, want 20", i)
		}
	}
	if used := s.shed.bodies.inUse(); used != 20*(4<<10+1) {
		t.Errorf("budget held by the twenty waiting logins: %d bytes, want %d", used, 20*(4<<10+1))
	}
	close(release)
	for range 20 {
		if code := <-codes; code != http.StatusNoContent {
			t.Errorf("a login answered %d, want 204", code)
		}
	}
	if used := s.shed.bodies.inUse(); used != 0 {
		t.Errorf("budget after the answers: %d bytes, want 0", used)
	}
}

// TestReadAheadHugeContentLength (second review): a push declaring a
// Content-Length of 2^63−1 on a route without a cap of its own is read
// ahead as any other (up to readAheadMax), is answered, and gives its
// bytes back: the declared length + 1 had overflowed, made a negative
// reservation, and a panic left the budget switched off.
func TestReadAheadHugeContentLength(t *testing.T) {
	s, e := readAheadServer(ShedOptions{}, 1<<20)
	req := httptest.NewRequest("POST", "/big", strings.NewReader("0123456789"))
	req.ContentLength = math.MaxInt64
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Body.String(), "10 ") {
		t.Errorf("Content-Length 2^63-1, 10 bytes sent: %d %q, want 200 with the 10 bytes", rec.Code, rec.Body.String())
	}
	if used := s.shed.bodies.inUse(); used != 0 {
		t.Errorf("budget after it: %d bytes, want 0", used)
	}
	if !s.shed.bodies.take(bodyHolder{user: "x"}, 1) {
		t.Error("the budget refuses one byte after it")
	}
}

// TestBodyBudgetSmall (second review): with a budget of 8 MiB, an eighth
// (1 MiB) is less than the largest push; a share is never less than
// readAheadMax, so a 1.5 MB push alone goes through.
func TestBodyBudgetSmall(t *testing.T) {
	_, e := readAheadServer(ShedOptions{BodyBudget: 8 << 20}, 1<<20)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest("POST", "/big", bytes.NewReader(make([]byte, 1_500_000))))
	if rec.Code != http.StatusOK {
		t.Fatalf("a 1.5 MB push alone with an 8 MiB budget: %d, want 200", rec.Code)
	}
}

// TestReadAheadEmptyAddress (third review): anonymous requests whose
// client address is empty (a custom IP extractor, a unix socket) are not
// counted by address, so nothing of theirs stays counted: forty 2 kB
// requests one after the other all go through.
func TestReadAheadEmptyAddress(t *testing.T) {
	s, e := readAheadServer(ShedOptions{}, 1<<20)
	for i := range 40 {
		req := httptest.NewRequest("POST", "/anon", bytes.NewReader(make([]byte, 2000)))
		req.RemoteAddr = ""
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("anonymous request %d without an address: %d, want 200", i+1, rec.Code)
		}
	}
	if used, addrs := s.shed.bodies.inUse(), len(s.shed.bodies.byAddr); used != 0 || addrs != 0 {
		t.Fatalf("after them: %d bytes, %d addresses counted, want none", used, addrs)
	}
}
