package replicate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/benbjohnson/litestream"
	"github.com/superfly/ltx"
)

// RestoreTo writes the replica's newest state (at zero) or its newest
// state committed before time at (point in time, RFC 3339 on the command
// line) to the new file out, which must not exist, and checks it with
// SQLite's integrity check. It returns the time of the restored state:
// the newest commit time (millisecond precision, from the LTX files'
// headers) among the files restored. Once Litestream has compacted a
// period into level-1 files and dropped its level-0 files (after
// L0Retention), that time may be earlier than at: the replica holds no
// state in between. Errors name the replica (redacted): not a replica
// URL, replica that cannot be listed, nothing replicated yet, at before
// the first snapshot (with the replica's first and last times). Litestream's
// own log lines go to logger at debug level (nil: discarded).
func RestoreTo(ctx context.Context, raw string, at time.Time, out string, logger *slog.Logger) (Restored, error) {
	c, err := NewClient(raw)
	if err != nil {
		return Restored{}, err
	}
	name := Redact(raw)
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	lsLogger := slog.New(quietHandler{logger.Handler()}).With("component", "litestream")
	if err := c.Init(ctx); err != nil {
		return Restored{}, fmt.Errorf("replica %s cannot be reached: %w", name, err)
	}
	// A DB that is never opened, only to carry the logger: Litestream logs
	// through its replica's DB (slog.Default without one).
	logDB := litestream.NewDB(out)
	logDB.SetLogger(lsLogger)
	r := litestream.NewReplicaWithClient(logDB, c)
	first, last, err := r.TimeBounds(ctx)
	if err != nil {
		return Restored{}, fmt.Errorf("replica %s cannot be read: %w", name, err)
	}
	if first.IsZero() {
		return Restored{}, fmt.Errorf("replica %s holds no database (nothing replicated there yet)", name)
	}
	notAvailable := func(err error) error {
		if !at.IsZero() {
			return fmt.Errorf("replica %s has no state at %s: it holds %s to %s (UTC)", name,
				at.UTC().Format(time.RFC3339), first.UTC().Format(time.RFC3339), last.UTC().Format(time.RFC3339))
		}
		return fmt.Errorf("replica %s holds no complete database: %w", name, err)
	}
	// The plan Litestream would follow for at, computed here to learn the
	// restored state's time; the restore then targets its last
	// transaction, so that the time said is the state written.
	plan, err := litestream.CalcRestorePlan(ctx, c, 0, at, lsLogger)
	if err != nil {
		if errors.Is(err, litestream.ErrTxNotAvailable) || errors.Is(err, litestream.ErrNoSnapshots) {
			return Restored{}, notAvailable(err)
		}
		return Restored{}, fmt.Errorf("replica %s cannot be read: %w", name, err)
	}
	var stateAt time.Time
	for _, info := range plan {
		if info.CreatedAt.After(stateAt) {
			stateAt = info.CreatedAt
		}
	}
	opt := litestream.NewRestoreOptions()
	opt.OutputPath = out
	opt.TXID = ltx.FileInfoSlice(plan).MaxTXID()
	opt.IntegrityCheck = litestream.IntegrityCheckFull
	if err := r.Restore(ctx, opt); err != nil {
		if errors.Is(err, litestream.ErrTxNotAvailable) || errors.Is(err, litestream.ErrNoSnapshots) {
			return Restored{}, notAvailable(err)
		}
		os.Remove(out)
		return Restored{}, fmt.Errorf("restore from replica %s: %w", name, err)
	}
	res := Restored{At: stateAt}
	if !at.IsZero() {
		if res.Compacted, err = compactedAfter(ctx, c, opt.TXID); err != nil {
			return Restored{}, fmt.Errorf("replica %s cannot be read: %w", name, err)
		}
	}
	return res, nil
}

// Restored describes the state RestoreTo wrote.
type Restored struct {
	// At is the commit time of the state's last transaction (UTC, ms).
	At time.Time
	// Compacted is true when the transaction after the state is held only
	// inside a compacted file (level 1 and up, whose time is its newest
	// transaction's): it may have been committed before the asked time,
	// so the state may be older than asked. False when its level-0 file
	// is kept (its time is known to be at or after the asked time) or
	// when there is none (the state is the newest).
	Compacted bool
}

// compactedAfter says whether the transaction after txid is on the
// replica but without its own level-0 file.
func compactedAfter(ctx context.Context, c litestream.ReplicaClient, txid ltx.TXID) (bool, error) {
	for level := 0; level < litestream.SnapshotLevel; level++ {
		itr, err := c.LTXFiles(ctx, level, 0, false)
		if err != nil {
			return false, err
		}
		found := false
		for itr.Next() {
			if info := itr.Item(); info.MinTXID <= txid+1 && txid+1 <= info.MaxTXID {
				found = true
				break
			}
		}
		if err := itr.Close(); err != nil {
			return false, err
		}
		if found {
			return level > 0, nil
		}
	}
	return false, nil
}
