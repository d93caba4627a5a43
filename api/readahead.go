package api

import (
	"io"
	"net/http"
	"sync"

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
//     pushes spend what the other phones need. The bytes are counted as
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

// readAheadFirst is the first buffer of a body read ahead.
const readAheadFirst = 4 << 10

// bodyBudget counts the bytes of the buffers of bodies read ahead, in all
// and by key (a username; "" for anonymous requests).
type bodyBudget struct {
	max, share int64
	mu         sync.Mutex
	used       int64
	byKey      map[string]int64
}

func newBodyBudget(max int64) *bodyBudget {
	return &bodyBudget{max: max, share: max / bodyShares, byKey: map[string]int64{}}
}

// take reserves n bytes for key; false (nothing reserved) past the
// budget or past key's share.
func (b *bodyBudget) take(key string, n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := b.byKey[key]
	if b.used+n > b.max || k+n > b.share {
		return false
	}
	b.used += n
	b.byKey[key] = k + n
	return true
}

func (b *bodyBudget) give(key string, n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
	if k := b.byKey[key] - n; k > 0 {
		b.byKey[key] = k
	} else {
		delete(b.byKey, key)
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
	if req.ContentLength >= 0 {
		most = min(most, req.ContentLength+1) // + 1: room to read the end
	}
	key := ""
	if p := principal(c); p != nil {
		key = p.Username
	}
	var buf []byte
	grow := func(n int64) bool {
		if !sh.bodies.take(key, n-int64(cap(buf))) {
			return false
		}
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
				sh.bodies.give(key, int64(cap(buf)))
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
	put(rb)
	reserved := int64(cap(buf))
	return func() { sh.bodies.give(key, reserved) }, true
}
