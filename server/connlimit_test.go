package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// TestConnLimit: past --max-connections, a new connection is served once
// the longest-idle keep-alive (quiet past idleGrace) is closed (the client
// sees it closed); while
// every connection has a request in flight, the new one waits, and is
// served when one of them ends. The server never holds more than the
// bound.
// limitedServer serves on a loopback port behind newConnLimit(max): "/"
// answers at once, "/slow" when release is closed. most is the most
// connections it held at once.
func limitedServer(t *testing.T, max int) (addr string, release chan struct{}, most *atomic.Int64) {
	t.Helper()
	lim := newConnLimit(max)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var open atomic.Int64
	most = &atomic.Int64{}
	release = make(chan struct{})
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-release
		}
		fmt.Fprint(w, "ok")
	})}
	hs.ConnState = func(c net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			if n := open.Add(1); n > most.Load() {
				most.Store(n)
			}
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
		lim.ConnState(c, s)
	}
	go hs.Serve(lim.Listener(ln))
	t.Cleanup(func() { hs.Close() })
	return ln.Addr().String(), release, most
}

// get sends a GET of path on c and reads a 200 answer.
func get(c net.Conn, path string) error {
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path); err != nil {
		return err
	}
	return readOK(c)
}

// readOK reads one answer on c, an error unless it is a 200.
func readOK(c net.Conn) error {
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// dial connects to addr, closed when t ends.
func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestConnLimit(t *testing.T) {
	addr, release, most := limitedServer(t, 2)
	dial := func() net.Conn { return dial(t, addr) }

	// Two keep-alives, idle after one request each; the first is the older.
	a, b := dial(), dial()
	if err := get(a, "/"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if err := get(b, "/"); err != nil {
		t.Fatal(err)
	}
	c := dial()
	if err := get(c, "/"); err != nil {
		t.Fatalf("third connection: %v", err)
	}
	a.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := a.Read(make([]byte, 1)); err == nil {
		t.Fatal("the longest-idle connection is still open")
	}
	if err := get(b, "/"); err != nil {
		t.Fatalf("the newer idle connection was closed: %v", err)
	}

	// Both slots busy with a request in flight: a new connection waits.
	slow := make(chan error, 2)
	go func() { slow <- get(b, "/slow") }()
	go func() { slow <- get(c, "/slow") }()
	time.Sleep(100 * time.Millisecond)
	d := dial()
	served := make(chan error, 1)
	go func() { served <- get(d, "/") }()
	select {
	case err := <-served:
		t.Fatalf("served past the bound while both connections were busy (%v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	for range 2 {
		if err := <-slow; err != nil {
			t.Fatalf("in-flight request: %v", err)
		}
	}
	if err := <-served; err != nil {
		t.Fatalf("waiting connection: %v", err)
	}
	if m := most.Load(); m > 2 {
		t.Errorf("the server held %d connections at once, want at most 2", m)
	}
}

// TestConnLimitSparesStartedRequest: a keep-alive whose next request has
// begun to arrive (headers half sent) is not closed for a waiting
// connection, even after idleGrace: its request is answered; the waiting
// connection is served once the keep-alive is quiet again.
func TestConnLimitSparesStartedRequest(t *testing.T) {
	addr, _, _ := limitedServer(t, 1)
	a := dial(t, addr)
	if err := get(a, "/"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(idleGrace + 50*time.Millisecond)
	if _, err := fmt.Fprint(a, "GET /second HTTP/1.1\r\n"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	b := dial(t, addr)
	served := make(chan error, 1)
	go func() { served <- get(b, "/") }()
	time.Sleep(idleGrace / 2)
	if _, err := fmt.Fprint(a, "Host: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if err := readOK(a); err != nil {
		t.Fatalf("the request begun before the new connection arrived: %v", err)
	}
	if err := <-served; err != nil {
		t.Fatalf("the waiting connection: %v", err)
	}
}

// TestConnLimitClosesSilentConnection: a connection that sends nothing
// holds its place for newGrace at most when another waits (not until
// --read-header-timeout, which this server does not even set).
func TestConnLimitClosesSilentConnection(t *testing.T) {
	addr, _, _ := limitedServer(t, 1)
	silent := dial(t, addr)
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	if err := get(dial(t, addr), "/"); err != nil {
		t.Fatalf("the waiting connection: %v", err)
	}
	if took := time.Since(start); took < newGrace-100*time.Millisecond {
		t.Errorf("served after %s: the silent connection was closed before newGrace (%s)", took, newGrace)
	}
	silent.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := silent.Read(make([]byte, 1)); err == nil {
		t.Error("the silent connection is still open")
	}
}
