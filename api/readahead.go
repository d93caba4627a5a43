package api

import (
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"prodays/sync/protocol"
)

// A write slot is for the database, not for the network. shedWrites reads
// a request's body before it takes a slot (readAhead), so that a client
// sending its body slowly, or never, holds a connection (bounded by
// --max-connections and --read-timeout), not one of the few slots every
// push needs. Before, six login requests that stalled after their headers
// (no token needed) held every slot of a small server until the read
// timeout, and each phone's push was answered 503 (issue #17's
// shedWrites; TestSlowBodiesHoldNoWriteSlot).
//
// What is read ahead is bounded:
//   - a body, to readAheadMax bytes and to the most its route takes (a
//     body declaring more than that is refused by its cap at the first
//     read, with nothing to wait for); the rest of a larger body (an
//     import upload, an outbox file) is read in the slot, as before;
//   - all bodies at once, to ShedOptions.BodyBudget bytes, and those of
//     one user (anonymous requests together count as one) to an eighth
//     of it, so that neither stalled logins nor one account's stalled
//     pushes spend what the other phones need; anonymous requests, also
//     to anonAddrShare a client address, and their bodies must arrive
//     within anonBodyWait. The bytes are counted as
//     the buffers grow with what has arrived: 4 KiB first, then twice
//     what came, up to the body's declared length and one byte.
//
// A request that would pass the budget is refused as a full queue is: 503
// "unavailable" with Retry-After. The bytes read ahead are read beneath
// the route's cap (cappedBody), which still applies when the handler
// reads, so every answer is the one the handler gave before.

// DefaultBodyBudget is the default of ShedOptions.BodyBudget: 32 MiB of
// bodies read ahead at once (the edition's 438 day's-end pushes hold
// about 0.5 MB).
const DefaultBodyBudget = 32 << 20

// bodyShares is the number of shares of the body budget: a user, or all
// anonymous requests together, hold at most one.
const bodyShares = 8

// readAheadMax is the most of one body read before its slot: the largest
// push (protocol.MaxBodyBytes) and one byte, so that the push's own cap
// still sees an oversized body.
const readAheadMax = protocol.MaxBodyBytes + 1

// authMaxBody caps the bodies of the routes open to anyone (login,
// refresh, logout: a few hundred bytes; 32 KiB leaves room for what a
// client may add and still answers the malformed ones, too long strings
// included, as malformed).
const authMaxBody = 32 << 10

// anonAddrShare is the most one client address holds of the anonymous
// requests' share while their bodies arrive (300 logins arriving at once
// from one school's network hold about 60 KB), and anonBodyWait how long an anonymous body may take to
// arrive (a login's few hundred bytes come in one packet): a client
// cannot park the anonymous share with stalled bodies for the whole
// --read-timeout.
const (
	anonAddrShare = 64 << 10
	anonBodyWait  = 5 * time.Second
)

// readAheadFirst is the first buffer of a body read ahead.
const readAheadFirst = 4 << 10

// bodyBudget counts the bytes of the buffers of bodies read ahead, in all
// and by holder: a user's requests, or the anonymous requests (those
// together, and those of one client address).
type bodyBudget struct {
	max, share int64
	mu         sync.Mutex
	used       int64
	byKey      map[string]int64 // by username; "" the anonymous requests
	byAddr     map[string]int64 // anonymous requests by client address
}

// bodyHolder is who holds a body read ahead: a user, or else an
// anonymous client at an address.
type bodyHolder struct{ user, addr string }

func newBodyBudget(limit int64) *bodyBudget {
	// A share holds at least the largest body read ahead, so that a
	// small budget refuses a large push only while others hold it.
	return &bodyBudget{max: limit, share: max(limit/bodyShares, readAheadMax), byKey: map[string]int64{}, byAddr: map[string]int64{}}
}

// take reserves n > 0 bytes for h; false (nothing reserved) past the
// budget, h's share, or, for an anonymous client, its address's
// anonAddrShare.
func (b *bodyBudget) take(h bodyHolder, n int64) bool {
	if n <= 0 {
		return n == 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	k, byAddr := b.byKey[h.user], h.user == "" && h.addr != ""
	if b.used+n > b.max || k+n > b.share || (byAddr && b.byAddr[h.addr]+n > anonAddrShare) {
		return false
	}
	b.used += n
	b.byKey[h.user] = k + n
	if byAddr {
		b.byAddr[h.addr] += n
	}
	return true
}

func (b *bodyBudget) give(h bodyHolder, n int64) {
	if n <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
	minus(b.byKey, h.user, n)
	if h.user == "" && h.addr != "" {
		minus(b.byAddr, h.addr, n)
	}
}

// arrived ends the count of n bytes by h's address (the body is whole:
// what the address share bounds is bodies arriving, which is what a
// stalling client holds), and returns the holder to give the bytes back
// as, once the request is answered. Logins that wait for their password
// check hold the anonymous share still, not their address's.
func (b *bodyBudget) arrived(h bodyHolder, n int64) bodyHolder {
	if h.user != "" || h.addr == "" {
		return h
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	minus(b.byAddr, h.addr, n)
	return bodyHolder{}
}

// minus takes n from m[k], deleting the key at zero.
func minus(m map[string]int64, k string, n int64) {
	if v := m[k] - n; v > 0 {
		m[k] = v
	} else {
		delete(m, k)
	}
}

// inUse returns the bytes reserved now (prodays_http_write_bodies_bytes).
func (b *bodyBudget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// readAheadBody is a request body read ahead: buf, then rest (the body
// past buf) or, when the body ended within buf, err as the original body
// returned it (io.EOF, a read timeout...), so that the handler answers as
// if it had read the body itself.
type readAheadBody struct {
	buf  []byte
	off  int
	err  error
	rest io.ReadCloser // non-nil: the body goes on past buf
	orig io.ReadCloser
}

func (r *readAheadBody) Read(p []byte) (int, error) {
	if r.off < len(r.buf) {
		n := copy(p, r.buf[r.off:])
		r.off += n
		return n, nil
	}
	if r.rest != nil {
		return r.rest.Read(p)
	}
	return 0, r.err
}

func (r *readAheadBody) Close() error { return r.orig.Close() }

// readAhead reads the request's body now, up to its bounds (above), and
// puts what it read beneath the route's cap. It returns the function that
// gives the buffer's bytes back to the budget once the request is
// answered, and ok = false when the budget is spent (the caller refuses
// the request; nothing to give back then).
func (sh *shedder) readAhead(c echo.Context) (done func(), ok bool) {
	req := c.Request()
	if req.Body == nil || req.Body == http.NoBody {
		return func() {}, true
	}
	most := int64(readAheadMax)
	src, put := req.Body, func(rb *readAheadBody) { req.Body = rb }
	if cb, _ := c.Get(bodyKey).(*cappedBody); cb != nil && cb.r == nil && req.Body == io.ReadCloser(cb) {
		src, put = cb.orig, func(rb *readAheadBody) { cb.orig = rb }
		if m := cb.most(); m < most { // (a route without a cap: math.MaxInt64)
			most = m + 1
		}
		if req.ContentLength > cb.most() {
			return func() {}, true // refused by the cap at the first read
		}
	}
	if cl := req.ContentLength; cl >= 0 && cl < most {
		most = cl + 1 // + 1: room to read the end (no overflow: cl < most)
	}
	h := bodyHolder{}
	lift := func() {}
	if p := principal(c); p != nil {
		h.user = p.Username
	} else {
		h.addr = c.RealIP()
		// Its body must arrive within anonBodyWait. Once it has, the
		// deadline is lifted: net/http's background read, which starts at
		// the body's end, would cancel the request's context on it (a
		// login may wait for its password check longer). A body cut off
		// keeps it, so that net/http closes the connection after the
		// answer instead of waiting for the rest.
		if rc := http.NewResponseController(c.Response().Writer); rc.SetReadDeadline(time.Now().Add(anonBodyWait)) == nil {
			lift = func() { rc.SetReadDeadline(time.Time{}) }
		}
	}
	var buf []byte
	var reserved int64
	defer func() {
		if !ok { // refused, or a panic on the way: nothing kept
			sh.bodies.give(h, reserved)
		}
	}()
	grow := func(n int64) bool {
		if !sh.bodies.take(h, n-reserved) {
			return false
		}
		reserved = n
		nb := make([]byte, len(buf), n)
		copy(nb, buf)
		buf = nb
		return true
	}
	if !grow(min(most, readAheadFirst)) {
		return nil, false
	}
	rb := &readAheadBody{orig: src}
	for {
		if len(buf) == cap(buf) {
			if int64(cap(buf)) >= most {
				rb.rest = src
				break
			}
			if !grow(min(2*int64(cap(buf)), most)) {
				return nil, false
			}
		}
		n, err := src.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			rb.err = err
			break
		}
	}
	rb.buf = buf
	if rb.rest == nil && rb.err == io.EOF {
		lift()
		h = sh.bodies.arrived(h, reserved)
	}
	put(rb)
	return func() { sh.bodies.give(h, reserved) }, true
}
