package replicate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/benbjohnson/litestream"
)

// RestoreTo writes the replica's newest state (at zero) or its state at
// time at (point in time, RFC 3339 on the command line) to the new file
// out, which must not exist, and checks it with SQLite's integrity check.
// Errors name the replica (redacted): not a replica URL, replica that
// cannot be listed, nothing replicated yet, at before the first snapshot
// (with the replica's first and last times).
func RestoreTo(ctx context.Context, raw string, at time.Time, out string) error {
	c, err := NewClient(raw)
	if err != nil {
		return err
	}
	name := Redact(raw)
	if err := c.Init(ctx); err != nil {
		return fmt.Errorf("replica %s cannot be reached: %w", name, err)
	}
	r := litestream.NewReplicaWithClient(nil, c)
	first, last, err := r.TimeBounds(ctx)
	if err != nil {
		return fmt.Errorf("replica %s cannot be read: %w", name, err)
	}
	if first.IsZero() {
		return fmt.Errorf("replica %s holds no database (nothing replicated there yet)", name)
	}
	opt := litestream.NewRestoreOptions()
	opt.OutputPath = out
	opt.Timestamp = at
	opt.IntegrityCheck = litestream.IntegrityCheckFull
	if err := r.Restore(ctx, opt); err != nil {
		if errors.Is(err, litestream.ErrTxNotAvailable) || errors.Is(err, litestream.ErrNoSnapshots) {
			if !at.IsZero() {
				return fmt.Errorf("replica %s has no state at %s: it holds %s to %s (UTC)", name,
					at.UTC().Format(time.RFC3339), first.UTC().Format(time.RFC3339), last.UTC().Format(time.RFC3339))
			}
			return fmt.Errorf("replica %s holds no complete database: %w", name, err)
		}
		os.Remove(out)
		return fmt.Errorf("restore from replica %s: %w", name, err)
	}
	return nil
}
