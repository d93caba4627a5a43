package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"prodays/replicate"
	"prodays/store"
)

// putInPlace is the one way a restored database replaces the live one,
// from a backup file or from a replica: store.Restore (integrity check,
// refusal while the database is in use, atomic rename), then the local
// replication state of the old database is dropped. Every post-restore
// step goes here.
func putInPlace(ctx context.Context, src, target string) error {
	if err := store.Restore(ctx, src, target); err != nil {
		return err
	}
	return replicate.RemoveLocalState(target)
}

// restoreFromReplica is prodays restore --from URL [--at TIME]: the
// replica's state (newest, or at TIME) is written to a temporary file
// beside the database, checked (integrity, migrations applied by
// store.Open), then put in place by putInPlace.
func restoreFromReplica(ctx context.Context, from, atText, target string, stdout, stderr io.Writer) error {
	var at time.Time
	if atText != "" {
		t, err := time.Parse(time.RFC3339Nano, atText)
		if err != nil {
			fmt.Fprintf(stderr, "restore: --at %q is not an RFC 3339 time (e.g. 2026-03-04T17:30:00+01:00)\n", atText)
			return errUsageShown
		}
		if t.After(time.Now().Add(time.Second)) {
			fmt.Fprintf(stderr, "restore: --at %s is in the future (now %s UTC)\n", t.UTC().Format(time.RFC3339), time.Now().UTC().Format(time.RFC3339))
			return errUsageShown
		}
		at = t
	}
	if _, err := replicate.NewClient(from); err != nil {
		fmt.Fprintln(stderr, "restore:", err)
		return errUsageShown
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o750); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	tmp := target + ".replica.tmp"
	removeDB(tmp)
	defer removeDB(tmp)
	start := time.Now()
	res, err := replicate.RestoreTo(ctx, from, at, tmp, newLogger(stderr))
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	// Migrations: the restored file must open as this prodays' database.
	db, err := store.Open(ctx, tmp, store.Options{})
	if err != nil {
		return fmt.Errorf("restore: the replica's database does not open: %w", err)
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := putInPlace(ctx, tmp, target); err != nil {
		if errors.Is(err, store.ErrInUse) {
			return fmt.Errorf("%w (nothing was changed)", err)
		}
		return err
	}
	stateAt := res.At
	when := "its newest state"
	if !at.IsZero() {
		when = "its state at " + stateAt.UTC().Format(time.RFC3339Nano)
		if res.Compacted && at.Sub(stateAt) > time.Second {
			fmt.Fprintf(stderr, "restore: the replica holds no state between %s and %s: restored %s (older states are kept at coarser steps, docs/operations.md)\n",
				stateAt.UTC().Format(time.RFC3339Nano), at.UTC().Format(time.RFC3339Nano), stateAt.UTC().Format(time.RFC3339Nano))
		}
	}
	fmt.Fprintf(stdout, "restored %s from %s to %s in %s (last commit %s)\n", when, replicate.Redact(from), target,
		time.Since(start).Round(time.Millisecond), stateAt.UTC().Format(time.RFC3339Nano))
	return nil
}

// removeDB removes a database file and its -wal, -shm and -journal.
func removeDB(path string) {
	for _, s := range []string{"", "-wal", "-shm", "-journal"} {
		os.Remove(path + s)
	}
}
