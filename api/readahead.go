package api

import (
	"io"
	"net/http"
	"sync/atomic"

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
// The bodies read ahead are bounded twice: each to readAheadMax bytes
// (the rest of a larger body, an import upload, is read in the slot, as
// before), and all of them at once to ShedOptions.BodyBudget bytes,
// counted as the buffers grow with what has arrived: a body that declares
// 2 MiB and sends nothing takes preallocMax; one that declares its length
// takes at most that and one byte, a chunked one up to twice what came. A request that would pass
// the budget is refused as a full queue is: 503 "unavailable" with
// Retry-After.

// DefaultBodyBudget is the default of ShedOptions.BodyBudget: 32 MiB of
// bodies read ahead at once (the edition's 438 day's-end pushes hold
// about 0.5 MB).
const DefaultBodyBudget = 32 << 20

// readAheadMax is the most of one body read before its slot: the largest
// push (protocol.MaxBodyBytes) and one byte, so that the push's own cap
// still sees an oversized body.
const readAheadMax = protocol.MaxBodyBytes + 1

// bodyBudget counts the bytes of the buffers of bodies read ahead.
type bodyBudget struct {
	max  int64
	used atomic.Int64
}

// take reserves n bytes; false (nothing reserved) past the budget.
func (b *bodyBudget) take(n int64) bool {
	if b.used.Add(n) > b.max {
		b.used.Add(-n)
		return false
	}
	return true
}

func (b *bodyBudget) give(n int64) { b.used.Add(-n) }

// readAheadBody is a request body read ahead: buf, then rest (the body
// past readAheadMax) or, when the body ended within buf, err as the
// original body returned it (io.EOF, *http.MaxBytesError, a read
// timeout...), so that the handler answers as if it had read the body
// itself.
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

// readAhead replaces the request's body by its first readAheadMax bytes,
// read now, within the body budget. It returns the function that gives
// the buffer's bytes back to the budget once the request is answered, and
// ok = false when the budget is spent (the caller refuses the request;
// nothing to give back then).
func (sh *shedder) readAhead(c echo.Context) (done func(), ok bool) {
	req := c.Request()
	if req.Body == nil || req.Body == http.NoBody {
		return func() {}, true
	}
	size, most := int64(4<<10), int64(readAheadMax) // a chunked body's first buffer
	if req.ContentLength >= 0 {
		// + 1: room to read the end (or a byte past a false length).
		size, most = min(req.ContentLength+1, preallocMax), min(req.ContentLength+1, readAheadMax)
	}
	var reserved int64
	grow := func(buf []byte, n int64) ([]byte, bool) {
		if !sh.bodies.take(n - int64(cap(buf))) {
			return buf, false
		}
		reserved = n
		nb := make([]byte, len(buf), n)
		copy(nb, buf)
		return nb, true
	}
	buf, ok := grow(nil, size)
	if !ok {
		return nil, false
	}
	rb := &readAheadBody{orig: req.Body}
	for {
		if len(buf) == cap(buf) {
			if int64(cap(buf)) >= most {
				rb.rest = req.Body
				break
			}
			if buf, ok = grow(buf, min(2*int64(cap(buf)), most)); !ok {
				sh.bodies.give(reserved)
				return nil, false
			}
		}
		n, err := req.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			rb.err = err
			break
		}
	}
	rb.buf = buf
	req.Body = rb
	return func() { sh.bodies.give(reserved) }, true
}
