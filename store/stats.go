package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"prodays"
	"prodays/internal/derrors"
)

// OpsStats is prodays.OpsStats.
type OpsStats = prodays.OpsStats

// OpsStats reads the figures of OpsStats through the read pool.
func (db *DB) OpsStats(ctx context.Context) (_ OpsStats, err error) {
	defer derrors.Wrap(&err, "store.OpsStats")
	var st OpsStats
	fi, err := os.Stat(db.Path)
	if err != nil {
		return st, fmt.Errorf("ops stats: %w", err)
	}
	st.FileBytes = fi.Size()
	if fi, err := os.Stat(db.Path + "-wal"); err == nil {
		st.WALBytes = fi.Size()
	} else if !errors.Is(err, os.ErrNotExist) {
		return st, fmt.Errorf("ops stats: %w", err)
	}
	if st.LastBackup, err = db.LastBackup(ctx); err != nil {
		return st, err
	}
	since := FormatTime(db.Now().Add(-time.Hour))
	err = db.Read.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM devices WHERE last_seen_at >= ?),
		(SELECT count(*) FROM flags WHERE status = 'open'),
		(SELECT count(*) FROM mutation_log WHERE status = 'rejected')`, since).
		Scan(&st.DevicesLastHour, &st.OpenFlags, &st.Quarantined)
	if err != nil {
		return st, fmt.Errorf("ops stats: %w", err)
	}
	return st, nil
}
