package replicate

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/benbjohnson/litestream"
	"github.com/superfly/ltx"
)

// watchedClient is a Litestream replica client that records whether its
// last call succeeded, and logs each change of state once (ok → failing,
// failing → ok), never once per upload.
type watchedClient struct {
	litestream.ReplicaClient
	r *replica

	mu           sync.Mutex
	failing      bool
	failedUpload bool // the failure came from an upload
	lastErr      string
	lastSuccess  time.Time
}

func (c *watchedClient) state() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := Status{OK: !c.failing, LastSuccess: c.lastSuccess}
	if c.failing {
		st.Error = c.lastErr
	}
	return st
}

// note records the outcome of one call: upload says whether it was an
// upload (WriteLTXFile) or a listing. A listing that succeeds does not
// clear a failed upload (a store may list but refuse writes); an upload
// that succeeds clears everything. A cancelled context (shutdown) is not a
// failure of the replica.
func (c *watchedClient) note(ctx context.Context, err error, upload bool) {
	if err != nil && ctx.Err() != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case err == nil && !upload && c.failedUpload:
		// still failing: only an upload proves the replica writable again
	case err == nil:
		c.lastSuccess = time.Now()
		if c.failing {
			c.failing, c.failedUpload = false, false
			c.r.logger.Info("replica ok again")
		}
	case !c.failing:
		c.failing, c.failedUpload, c.lastErr = true, upload, err.Error()
		c.r.logger.Error("replica failing; the server keeps accepting writes and retries", "err", err)
	default:
		c.failedUpload = c.failedUpload || upload
		c.lastErr = err.Error()
	}
}

// Init initialises the client; a failure is recorded, not returned, so
// that an unreachable replica does not stop the server from starting
// (every later call initialises again).
func (c *watchedClient) Init(ctx context.Context) error {
	if err := c.ReplicaClient.Init(ctx); err != nil {
		c.note(ctx, err, false)
	}
	return nil
}

// LTXFiles lists a level; clients list lazily, so the outcome is the
// iterator's, noted at its end.
func (c *watchedClient) LTXFiles(ctx context.Context, level int, seek ltx.TXID, useMetadata bool) (ltx.FileIterator, error) {
	it, err := c.ReplicaClient.LTXFiles(ctx, level, seek, useMetadata)
	if err != nil {
		c.note(ctx, err, false)
		return it, err
	}
	return &watchedIterator{FileIterator: it, c: c, ctx: ctx}, nil
}

func (c *watchedClient) WriteLTXFile(ctx context.Context, level int, minTXID, maxTXID ltx.TXID, r io.Reader) (*ltx.FileInfo, error) {
	info, err := c.ReplicaClient.WriteLTXFile(ctx, level, minTXID, maxTXID, r)
	c.note(ctx, err, true)
	return info, err
}

// watchedIterator notes its listing's outcome once: when Next reports
// the end, or at Close.
type watchedIterator struct {
	ltx.FileIterator
	c     *watchedClient
	ctx   context.Context
	noted bool
}

func (it *watchedIterator) Next() bool {
	ok := it.FileIterator.Next()
	if !ok && !it.noted {
		it.noted = true
		it.c.note(it.ctx, it.FileIterator.Err(), false)
	}
	return ok
}

func (it *watchedIterator) Close() error {
	err := it.FileIterator.Close()
	if !it.noted {
		it.noted = true
		it.c.note(it.ctx, it.FileIterator.Err(), false)
	}
	return err
}

// quietHandler logs Litestream's own records at debug level
// (PRODAYS_LOG_LEVEL=debug shows them): the replica's state changes are
// logged by watchedClient, once each, while Litestream repeats its errors
// every 30 s.
type quietHandler struct{ slog.Handler }

func (h quietHandler) Enabled(ctx context.Context, _ slog.Level) bool {
	return h.Handler.Enabled(ctx, slog.LevelDebug)
}

func (h quietHandler) Handle(ctx context.Context, rec slog.Record) error {
	rec.Level = slog.LevelDebug
	return h.Handler.Handle(ctx, rec)
}

func (h quietHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return quietHandler{h.Handler.WithAttrs(a)}
}

func (h quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{h.Handler.WithGroup(name)}
}
