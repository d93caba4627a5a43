package api_test

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"prodays/internal/synctest"
	"prodays/internal/testenv"
)

// TestSlowBodiesHoldNoWriteSlot: clients that send the headers of a write
// request and then its body slowly, or never, hold connections, not the
// write slots that every push needs (api/readahead.go). Against the
// binary, with 2 slots, 1 waiting place and a 300 ms wait: six login
// requests (no token needed) stall after 10 bytes of the 200 they
// declare, then a phone pushes. Before the fix the six held both slots
// and the place until --read-timeout (60 s), and every push was answered
// 503. A stalled body that finally arrives is still answered (400: it is
// not JSON), the others are cut off after 5 s (anonBodyWait).
func TestSlowBodiesHoldNoWriteSlot(t *testing.T) {
	env := testenv.Process(t, testenv.ProcessOptions{Seed: ptSeed,
		Args: []string{"--write-concurrent", "2", "--write-queue", "1", "--write-wait", "300ms", "--read-timeout", "20s"}})
	s := env.Login(t, "staff1", "0190d5a4-8f0c-7a11-9c3b-00000000510e")
	var stalled []net.Conn
	opened := time.Now()
	for range 6 {
		c, err := net.Dial("tcp", env.Proc.Addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := fmt.Fprint(c, "POST /api/v1/auth/login HTTP/1.1\r\nHost: prodays\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"username"); err != nil {
			t.Fatal(err)
		}
		stalled = append(stalled, c)
	}
	// The server has read their headers and runs their handlers' chains
	// well within this (it answers a whole push in milliseconds).
	time.Sleep(500 * time.Millisecond)
	ph := &ptPhone{}
	tr := synctest.TraineesE1
	for i := range 3 {
		st, resp, code := ptPush(t, s, 1, ph.checkIn(int64(i+1), tr[i]))
		if st != http.StatusOK {
			t.Fatalf("push %d while six login bodies stall: %d %s; want 200 (a body not arrived holds no write slot)", i+1, st, code)
		}
		if len(resp.Results) != 1 || resp.Results[0].Status != "applied" {
			t.Fatalf("push %d: results %+v, want one applied", i+1, resp.Results)
		}
	}
	// One stalled client sends the rest of its body: it is answered as
	// any bad login is, and the server is still whole.
	c := stalled[0]
	if _, err := fmt.Fprint(c, strings.Repeat(" ", 190)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("the stalled login, completed: no answer: %v", err)
	}
	if got := string(buf[:n]); !strings.HasPrefix(got, "HTTP/1.1 400") {
		t.Fatalf("the stalled login, completed: %q, want HTTP/1.1 400 (its body is not JSON)", got)
	}
	// Another is cut off by the anonymous bodies' deadline (5 s), well
	// before --read-timeout (20 s here): it cannot park its share.
	c = stalled[1]
	c.SetReadDeadline(time.Now().Add(15 * time.Second))
	n, err = c.Read(buf)
	if err != nil {
		t.Fatalf("a stalled login: no answer in 15 s: %v", err)
	}
	if got, after := string(buf[:n]), time.Since(opened); !strings.HasPrefix(got, "HTTP/1.1 400") || after > 10*time.Second {
		t.Fatalf("a stalled login: %q after %v, want HTTP/1.1 400 within about 5 s", got, after)
	}
}

// TestRefusedBodyNotAwaited: a request refused before its body is read
// (here a push without a token, declaring 60 MB and sending none) is
// answered at once; the server closes the connection instead of reading
// 256 KiB of the body first (net/http's drain, which waits for a body
// that may never come).
func TestRefusedBodyNotAwaited(t *testing.T) {
	headersOnlyAnsweredAtOnce(t, "/api/v1/sync/push", 60_000_000, "401")
}

// TestOverDeclaredBodyNotAwaited (third review): a login declaring a body
// over its route's cap (32 KiB) and sending none is answered 413 at once
// and its connection closed, instead of net/http reading the body it
// will not use until --read-timeout.
func TestOverDeclaredBodyNotAwaited(t *testing.T) {
	headersOnlyAnsweredAtOnce(t, "/api/v1/auth/login", 32_769, "413")
}

// headersOnlyAnsweredAtOnce sends, to the binary over raw TCP, the
// headers of a JSON POST to path declaring length bytes and none of them,
// and wants the answer's status within a second.
func headersOnlyAnsweredAtOnce(t *testing.T, path string, length int, status string) {
	t.Helper()
	env := testenv.Process(t, testenv.ProcessOptions{Seed: ptSeed})
	c, err := net.Dial("tcp", env.Proc.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: prodays\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", path, length); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	c.SetReadDeadline(start.Add(10 * time.Second))
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no answer in 10 s: %v", err)
	}
	if got := string(buf[:n]); !strings.HasPrefix(got, "HTTP/1.1 "+status) || time.Since(start) > time.Second {
		t.Fatalf("answered %q after %v, want HTTP/1.1 %s at once", got, time.Since(start), status)
	}
}
