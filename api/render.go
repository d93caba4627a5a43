package api

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"strconv"
	"sync"

	"github.com/labstack/echo/v4"
)

// gzipMinBytes is the smallest JSON answer compressed: below about one
// TCP segment (a 1,500-byte MTU) compression saves no packet, and a day's
// end push of 15 mutations is answered in about 1 KB.
const gzipMinBytes = 1400

// writeJSON writes v as JSON, gzip-compressed when the client accepts it
// and the JSON is at least gzipMinBytes.
func writeJSON(c echo.Context, status int, v any) error {
	_, err := writeJSONSize(c, status, v)
	return err
}

// writeJSONSize is writeJSON that also returns the size of the JSON in
// bytes (before compression). The JSON is encoded whole before the status
// is written (encoding/json's Encoder buffers it whole too), so an
// encoding error is still a 500.
func writeJSONSize(c echo.Context, status int, v any) (int64, error) {
	buf := jsonBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer putJSONBuffer(buf)
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		return 0, err
	}
	n := int64(buf.Len())
	res := c.Response()
	h := res.Header()
	h.Set("Cache-Control", "no-store")
	h.Add("Vary", "Accept-Encoding")
	h.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	if buf.Len() < gzipMinBytes || !acceptsGzip(c.Request().Header.Get("Accept-Encoding")) {
		h.Set(echo.HeaderContentLength, strconv.Itoa(buf.Len())) // known: no chunking
		res.WriteHeader(status)
		_, err := res.Write(buf.Bytes())
		return n, err
	}
	h.Set(echo.HeaderContentEncoding, "gzip")
	res.WriteHeader(status)
	zw := gzipWriters.get(res)
	defer gzipWriters.put(zw)
	if _, err := zw.Write(buf.Bytes()); err != nil {
		return n, err
	}
	return n, zw.Close()
}

// jsonBuffers recycles the answers' buffers (up to jsonBufferMax bytes).
var jsonBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// jsonBufferMax is the largest buffer jsonBuffers keeps: a pull page of
// several MB is not held for the next small answer.
const jsonBufferMax = 64 << 10

func putJSONBuffer(b *bytes.Buffer) {
	if b.Cap() <= jsonBufferMax {
		jsonBuffers.Put(b)
	}
}

// freeList is a bounded list of reusable values. Unlike a sync.Pool, it
// survives garbage collections: under memory pressure the GC runs often
// and emptied the pool of gzip writers, and each new writer allocated
// about 1.2 MB, which made the GC run more often still (issue #17, the
// edition at ten times its size: 17 % of the server's CPU in allocation
// and GC assists, the writers and readers first among the allocations).
type freeList[T any] struct {
	free chan T
}

func newFreeList[T any](n int) *freeList[T] { return &freeList[T]{free: make(chan T, n)} }

// take returns a kept value, or false when there is none.
func (l *freeList[T]) take() (T, bool) {
	select {
	case v := <-l.free:
		return v, true
	default:
		var zero T
		return zero, false
	}
}

// keep keeps v for a next take, unless the list is full.
func (l *freeList[T]) keep(v T) {
	select {
	case l.free <- v:
	default:
	}
}

// gzipWriterList recycles gzip writers (BestSpeed).
type gzipWriterList struct{ *freeList[*gzip.Writer] }

// get returns a writer compressing to w.
func (l gzipWriterList) get(w io.Writer) *gzip.Writer {
	if zw, ok := l.take(); ok {
		zw.Reset(w)
		return zw
	}
	zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed) // a valid level: no error
	return zw
}

// put keeps zw (it no longer holds its last destination).
func (l gzipWriterList) put(zw *gzip.Writer) {
	zw.Reset(io.Discard)
	l.keep(zw)
}

// gzipReaderList recycles gzip readers (about 40 KB each).
type gzipReaderList struct{ *freeList[*gzip.Reader] }

// get returns a reader decompressing r; an error is gzip's for a bad
// header.
func (l gzipReaderList) get(r io.Reader) (*gzip.Reader, error) {
	if zr, ok := l.take(); ok {
		return zr, zr.Reset(r)
	}
	return gzip.NewReader(r)
}

// put keeps zr, which may be nil (gzip.NewReader failed), reset on an
// empty gzip stream so that it no longer holds the request's body (and,
// through it, the *http.Request and its ResponseWriter). A reader that
// cannot be reset is dropped.
func (l gzipReaderList) put(zr *gzip.Reader) {
	if zr == nil {
		return
	}
	zr.Close()
	if zr.Reset(bytes.NewReader(emptyGzip)) == nil {
		l.keep(zr)
	}
}

// emptyGzip is a gzip stream of nothing, the source of kept readers.
var emptyGzip = func() []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Close()
	return b.Bytes()
}()

// The answers compressed at once are about as many as the cores (a
// writer is held while one answer is compressed); the pushes read at once
// are up to the write slots, each reader held while its body arrives.
var (
	gzipWriters = gzipWriterList{newFreeList[*gzip.Writer](8)}
	gzipReaders = gzipReaderList{newFreeList[*gzip.Reader](64)}
)
