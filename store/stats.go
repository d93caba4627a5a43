package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"prodays/internal/derrors"
)

// OpsStats are the figures an operator watches, computed on demand (the
// /metrics scrape): sizes in bytes, counts of rows.
type OpsStats struct {
	FileBytes int64 // the database file
	WALBytes  int64 // its write-ahead log (0 when absent)
	// LastBackup is the start of the last successful Backup (zero: none).
	LastBackup time.Time
	// DevicesLastHour counts devices whose last_seen_at is within the hour
	// before now.
	DevicesLastHour int64
	OpenFlags       int64 // flags waiting for a supervisor
	Quarantined     int64 // rejected mutations kept in the quarantine
}

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
