package api

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"prodays"
	"prodays/sync/protocol"
)

// push: POST /api/v1/sync/push (sync protocol, Push). The body is JSON,
// optionally Content-Encoding: gzip; its decompressed size is capped while
// reading (a gzip bomb stops at protocol.MaxBodyBytes + 1 bytes). Answers
// 200 with per-mutation results once the batch committed; 413 over the
// limits (max_mutations, max_bytes); 403 device_mismatch.
//
// Metrics: every call counts one prodays_sync_push_batches_total by
// outcome (committed: answered 200; refused: a 4xx error; failed: any
// other error), and a committed batch one prodays_sync_mutations_total per
// result, by mutation type and result status.
func (s *Server) push(c echo.Context) (err error) {
	defer func() { s.Metrics.PushBatch(pushOutcome(err)) }()
	req := c.Request()
	mt, _, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return prodays.Errorf(prodays.EUnsupported, "Send the push as application/json (gzip allowed).")
	}
	var r io.Reader = io.LimitReader(req.Body, protocol.MaxBodyBytes+1)
	size := req.ContentLength // of the body as read, when not compressed
	switch enc := strings.ToLower(strings.TrimSpace(req.Header.Get(echo.HeaderContentEncoding))); enc {
	case "", "identity":
	case "gzip":
		size = -1
		zr, err := gzipReaders.get(r)
		if err != nil {
			return prodays.Errorf(prodays.EInvalid, "The body is not valid gzip.")
		}
		defer gzipReaders.put(zr)
		r = io.LimitReader(zr, protocol.MaxBodyBytes+1)
	default:
		return prodays.Errorf(prodays.EUnsupported, "Content-Encoding %q is not supported: use gzip or none.", enc)
	}
	body, err := readAll(r, size)
	if err != nil {
		return prodays.Errorf(prodays.EInvalid, "Could not read the request body (truncated or corrupt gzip).")
	}
	if len(body) > protocol.MaxBodyBytes {
		return protocol.TooLarge(fmt.Sprintf("The push is over %d bytes after decompression: split the outbox.", protocol.MaxBodyBytes))
	}
	pr, err := protocol.DecodePush(body)
	if err != nil {
		return err
	}
	resp, err := s.Sync.Push(req.Context(), principal(c), pr)
	if err != nil {
		return err
	}
	s.countMutations(pr, resp)
	return writeJSON(c, http.StatusOK, resp)
}

// preallocMax bounds readAll's first buffer.
const preallocMax = 64 << 10

// readAll is io.ReadAll into a buffer made for size bytes, the body's
// Content-Length when it is known, up to preallocMax (the buffer grows,
// doubling, as more comes): a day's-end push is read into one allocation
// and a push of 100 KB into three rather than a dozen, while a client that
// declares a large body and sends none makes the server hold 64 KiB, not
// the 2 MiB it declared (reviewer finding: 120 such requests took the
// heap from 7 to 276 MB).
func readAll(r io.Reader, size int64) ([]byte, error) {
	if size <= 0 || size > protocol.MaxBodyBytes {
		return io.ReadAll(r)
	}
	b := make([]byte, 0, min(size+1, preallocMax)) // + 1: room to read the end
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// countMutations adds a pushed batch's results to
// prodays_sync_mutations_total (results are in the order of the batch).
func (s *Server) countMutations(pr *protocol.PushRequest, resp *protocol.PushResponse) {
	for i, r := range resp.Results {
		typ := ""
		if i < len(pr.Mutations) {
			typ = pr.Mutations[i].Type
		}
		s.Metrics.MutationApplied(typ, r.Status)
	}
}

// pushOutcome is the prodays_sync_push_batches_total outcome of a push
// that returned err: "committed" (nil), "refused" (an error answered 4xx)
// or "failed" (5xx).
func pushOutcome(err error) string {
	if err == nil {
		return "committed"
	}
	if c, ok := prodays.LookupCode(prodays.ErrorCode(err)); !ok || c.Status >= 500 {
		return "failed" // prodays.ErrorCode of a plain error is EInternal; an unregistered code answers 500
	}
	return "refused"
}

// pull: GET /api/v1/sync/pull?cursor=C&limit=N (sync protocol, Pull).
// Each page served counts in prodays_sync_pull_pages_total and its JSON
// size, in bytes before compression, in prodays_sync_pull_bytes_total.
func (s *Server) pull(c echo.Context) error {
	limit := 0
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > protocol.MaxPullLimit {
			return prodays.Errorf(prodays.EInvalid, "limit must be an integer from 1 to %d.", protocol.MaxPullLimit)
		}
		limit = n
	}
	resp, err := s.Sync.Pull(c.Request().Context(), principal(c), c.QueryParam("cursor"), limit)
	if err != nil {
		return err
	}
	n, err := writeJSONSize(c, http.StatusOK, resp)
	s.Metrics.PullPage(int(n))
	return err
}
