package main

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// connLimit bounds the server's open connections (issue #17: each costs
// about 18 KB of resident memory, idle or not, so 4,380 phones at once
// would add 80 MB). A connection past the bound waits, accepted but not
// served (no buffers, no goroutine), with the next ones in the kernel's
// accept queue, until one closes; to make room, the connection idle the
// longest (a keep-alive between two requests) is closed, so that phones
// waiting to push are not held back by phones that are done. Closing an idle connection loses nothing: no
// request is in flight on it, and a client opens a new one.
type connLimit struct {
	slots  chan struct{}
	done   chan struct{} // closed with the listener
	idling chan struct{} // a connection turned idle (one pending signal at most)

	mu   sync.Mutex
	idle map[net.Conn]time.Time // connections between two requests, since when
}

func newConnLimit(max int) *connLimit {
	return &connLimit{slots: make(chan struct{}, max), done: make(chan struct{}), idling: make(chan struct{}, 1),
		idle: map[net.Conn]time.Time{}}
}

// Listener wraps ln: each connection it accepts holds a slot until it
// closes.
func (l *connLimit) Listener(ln net.Listener) net.Listener {
	return &limitedListener{Listener: ln, l: l}
}

// ConnState is the http.Server hook that tracks idle connections.
func (l *connLimit) ConnState(c net.Conn, s http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s == http.StateIdle {
		l.idle[c] = time.Now()
		select {
		case l.idling <- struct{}{}:
		default:
		}
	} else {
		delete(l.idle, c)
	}
}

// acquire takes a slot, closing the longest-idle connection when there is
// none (waiting for one to turn idle or to close when none is); false once
// the listener is closed.
func (l *connLimit) acquire() bool {
	for {
		select {
		case l.slots <- struct{}{}:
			return true
		default:
		}
		l.evictIdle()
		select {
		case l.slots <- struct{}{}:
			return true
		case <-l.idling:
		case <-l.done:
			return false
		}
	}
}

// evictIdle closes the connection idle the longest, if any.
func (l *connLimit) evictIdle() {
	l.mu.Lock()
	var oldest net.Conn
	var since time.Time
	for c, t := range l.idle {
		if oldest == nil || t.Before(since) {
			oldest, since = c, t
		}
	}
	delete(l.idle, oldest)
	l.mu.Unlock()
	if oldest != nil {
		oldest.Close()
	}
}

type limitedListener struct {
	net.Listener
	l    *connLimit
	once sync.Once
}

// Accept takes the next connection from the kernel first, then a slot
// for it, so that an idle connection is closed only for one that is
// really waiting.
func (ln *limitedListener) Accept() (net.Conn, error) {
	c, err := ln.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if !ln.l.acquire() {
		c.Close()
		return nil, net.ErrClosed
	}
	return &limitedConn{Conn: c, release: func() { <-ln.l.slots }}, nil
}

func (ln *limitedListener) Close() error {
	ln.once.Do(func() { close(ln.l.done) })
	return ln.Listener.Close()
}

// limitedConn frees its slot once, on its first Close.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
