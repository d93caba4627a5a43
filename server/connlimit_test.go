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
// the longest-idle keep-alive is closed (the client sees it closed); while
// every connection has a request in flight, the new one waits, and is
// served when one of them ends. The server never holds more than the
// bound.
func TestConnLimit(t *testing.T) {
	lim := newConnLimit(2)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var open, most atomic.Int64
	release := make(chan struct{})
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
	defer hs.Close()
	addr := ln.Addr().String()

	get := func(c net.Conn, path string) error {
		if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path); err != nil {
			return err
		}
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
	dial := func() net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}

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
