package main

import (
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// connLimit bounds the server's open connections (issue #17: each costs
// about 18 KB of resident memory, idle or not, so 4,380 phones at once
// would add 80 MB). A connection past the bound waits, accepted but not
// served (no buffers, no goroutine), with the next ones in the kernel's
// accept queue, until one closes. To make room for it, one connection
// without a request in flight is closed: a keep-alive quiet for at least
// idleGrace (the longest quiet first), else one that has sent no whole
// request within newGrace of its accept (silent, or sending its headers
// slower than any phone: it would hold its place until
// --read-header-timeout). A connection is never closed while net/http
// serves a request on it, nor once bytes of its next request arrived.
type connLimit struct {
	slots  chan struct{}
	done   chan struct{} // closed with the listener
	idling chan struct{} // a connection left StateActive (one pending signal at most)

	mu    sync.Mutex
	quiet map[*limitedConn]bool // connections without a request in flight
}

const (
	idleGrace = 250 * time.Millisecond // a keep-alive quiet this long may be closed
	newGrace  = 2 * time.Second        // a new connection without a request this long may be closed
	recheck   = 100 * time.Millisecond // how often a waiting connection looks again
)

func newConnLimit(max int) *connLimit {
	return &connLimit{slots: make(chan struct{}, max), done: make(chan struct{}), idling: make(chan struct{}, 1),
		quiet: map[*limitedConn]bool{}}
}

// Listener wraps ln: each connection it accepts holds a slot until it
// closes.
func (l *connLimit) Listener(ln net.Listener) net.Listener {
	return &limitedListener{Listener: ln, l: l}
}

// ConnState is the http.Server hook that tracks which connections have a
// request in flight.
func (l *connLimit) ConnState(c net.Conn, s http.ConnState) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	lc, ok := c.(*limitedConn)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	lc.state = s
	switch s {
	case http.StateNew, http.StateIdle:
		lc.since.Store(time.Now().UnixNano())
		l.quiet[lc] = true
		select {
		case l.idling <- struct{}{}:
		default:
		}
	default:
		delete(l.quiet, lc)
	}
}

// acquire takes a slot, closing a connection that may be closed when
// there is none, and looking again while none may be; false once the
// listener is closed.
func (l *connLimit) acquire() bool {
	tick := time.NewTicker(recheck)
	defer tick.Stop()
	for {
		select {
		case l.slots <- struct{}{}:
			return true
		default:
		}
		l.evict(time.Now())
		select {
		case l.slots <- struct{}{}:
			return true
		case <-l.idling:
		case <-tick.C:
		case <-l.done:
			return false
		}
	}
}

// evict closes the keep-alive quiet the longest past idleGrace, else the
// oldest new connection past newGrace, if any.
func (l *connLimit) evict(now time.Time) {
	l.mu.Lock()
	var idle, fresh *limitedConn
	var idleSince, freshSince int64
	for lc := range l.quiet {
		if lc.state == http.StateNew {
			if now.UnixNano()-lc.accepted >= int64(newGrace) && (fresh == nil || lc.accepted < freshSince) {
				fresh, freshSince = lc, lc.accepted
			}
			continue
		}
		since := max(lc.since.Load(), lc.lastRead.Load())
		if now.UnixNano()-since >= int64(idleGrace) && (idle == nil || since < idleSince) {
			idle, idleSince = lc, since
		}
	}
	victim := idle
	if victim == nil {
		victim = fresh
	}
	delete(l.quiet, victim)
	l.mu.Unlock()
	if victim != nil {
		victim.Close()
	}
}

type limitedListener struct {
	net.Listener
	l    *connLimit
	once sync.Once
}

// Accept takes the next connection from the kernel first, then a slot
// for it, so that a connection is closed only for one that is really
// waiting.
func (ln *limitedListener) Accept() (net.Conn, error) {
	c, err := ln.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if !ln.l.acquire() {
		c.Close()
		return nil, net.ErrClosed
	}
	return &limitedConn{Conn: c, l: ln.l, accepted: time.Now().UnixNano()}, nil
}

func (ln *limitedListener) Close() error {
	ln.once.Do(func() { close(ln.l.done) })
	return ln.Listener.Close()
}

// limitedConn frees its slot once, on its first Close, and notes when it
// last read bytes (the start of its next request).
type limitedConn struct {
	net.Conn
	l        *connLimit
	once     sync.Once
	accepted int64        // UnixNano
	lastRead atomic.Int64 // UnixNano of the last read that returned bytes
	since    atomic.Int64 // UnixNano of the last change to StateNew or StateIdle
	state    http.ConnState
}

func (c *limitedConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.lastRead.Store(time.Now().UnixNano())
	}
	return n, err
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { <-c.l.slots })
	return err
}
