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
	conn.SetMaxOpenConns(1)
	conn.SetMaxIdleConns(1)
	conn.SetConnMaxLifetime(0)
	conn.SetConnMaxIdleTime(0)
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
				if _, _, err := c.checkpoint(context.Background()); err != nil {
					slog.Warn("background checkpoint", "db", path, "err", err)
				}
			}
		}
	}()
	return c, nil
}

// checkpoint runs one PASSIVE checkpoint: it returns the frames in the WAL
// and those copied into the database so far (-1, -1 when the database is
// not in WAL mode).
func (c *checkpointer) checkpoint(ctx context.Context) (wal, copied int, err error) {
	var busy int
	err = c.conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &wal, &copied)
	return wal, copied, err
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
