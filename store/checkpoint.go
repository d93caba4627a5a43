package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// DefaultCheckpointEvery is how often the background checkpointer
// (Options.BackgroundCheckpoint) checkpoints the WAL.
const DefaultCheckpointEvery = 500 * time.Millisecond

// checkpointer checkpoints the WAL on a connection of its own, so that the
// writer's commits only append to the WAL and sync it (issue #17: at the
// day's end, the commits that ran SQLite's automatic checkpoint, copying
// the WAL into the database and syncing it, took 20 % of the writer's
// time). PASSIVE: it never waits for the writer or a reader, and a writer
// never waits for it (https://sqlite.org/c3ref/wal_checkpoint_v2.html).
type checkpointer struct {
	conn *sql.DB
	stop chan struct{}
	done sync.WaitGroup
	once sync.Once
}

// startCheckpointer opens the checkpointer's connection on path and
// checkpoints every period until stopped.
func startCheckpointer(path string, busy, period time.Duration) (*checkpointer, error) {
	conn, err := sql.Open("sqlite", dsn(path, busy, true))
	if err != nil {
		return nil, fmt.Errorf("open %s for checkpoints: %w", path, err)
	}
	oneConnection(conn)
	c := &checkpointer{conn: conn, stop: make(chan struct{})}
	c.done.Add(1)
	go func() {
		defer c.done.Done()
		tick := time.NewTicker(period)
		defer tick.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-tick.C:
				if err := c.checkpoint(context.Background()); err != nil {
					slog.Warn("background checkpoint", "db", path, "err", err)
				}
			}
		}
	}()
	return c, nil
}

// checkpoint runs one PASSIVE checkpoint (its counts of WAL frames are
// not needed: the next one takes what this one left).
func (c *checkpointer) checkpoint(ctx context.Context) error {
	var busy, wal, copied int
	return c.conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &wal, &copied)
}

// close stops the checkpoints and closes the connection; again, nothing.
func (c *checkpointer) close() error {
	var err error
	c.once.Do(func() {
		close(c.stop)
		c.done.Wait()
		err = c.conn.Close()
	})
	return err
}
