package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"prodays/internal/derrors"
)

// MetaLastBackup is the app_meta key holding the time (TimeFormat, UTC) of
// the last successful Backup; the backup-age metric reads it.
const MetaLastBackup = "last_backup_at"

// Backup writes a consistent copy of the live database to dest without
// stopping the server. It runs VACUUM INTO on a connection of its own: a
// read transaction on a WAL snapshot, so writers go on while it runs and
// the copy holds exactly the transactions committed before it began (and no
// part of a later one). Not the read pool, whose query_only pragma makes
// VACUUM INTO fail with SQLITE_READONLY; not the writer, which it would hold
// (and so block every write) for the whole copy. The copy is written to dest+".tmp", synced to disk (SQLite
// does not fsync VACUUM INTO's output) and renamed over dest, so dest is
// either the previous file or the complete new one, never a partial copy.
// On success the time is recorded under MetaLastBackup.
func (db *DB) Backup(ctx context.Context, dest string) (err error) {
	defer derrors.Wrap(&err, "store.Backup(%s)", dest)
	dest, err = filepath.Abs(dest)
	if err != nil {
		return err
	}
	if same, _ := samePath(dest, db.Path); same {
		return errors.New("the backup would overwrite the live database")
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o750); err != nil {
		return err
	}
	tmp := dest + ".tmp"
	// VACUUM INTO refuses an existing file: a .tmp left by a crash goes.
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	// The copy holds password and token hashes and personal data: owner
	// only, whatever the umask, from its first byte (VACUUM INTO takes an
	// existing empty file, and keeps its mode).
	if err := createPrivate(tmp); err != nil {
		return err
	}
	started := db.Now()
	if err := db.vacuumInto(ctx, tmp); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := syncFile(tmp); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, dest); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := syncDir(filepath.Dir(dest)); err != nil {
		return err
	}
	return db.WithTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO app_meta (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, MetaLastBackup, FormatTime(started))
		return err
	})
}

// vacuumInto runs VACUUM INTO dest on a fresh connection (deferred
// transactions, not query_only), closed afterwards.
func (db *DB) vacuumInto(ctx context.Context, dest string) error {
	c, err := sql.Open("sqlite", dsn(db.Path, db.busy, false))
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetMaxOpenConns(1)
	if _, err := c.ExecContext(ctx, `VACUUM INTO ?`, dest); err != nil {
		return fmt.Errorf("vacuum into: %w", err)
	}
	return nil
}

// LastBackup returns the start time of the last successful Backup, or the
// zero time when there was none.
func (db *DB) LastBackup(ctx context.Context) (time.Time, error) {
	var v string
	err := db.Read.QueryRowContext(ctx, `SELECT value FROM app_meta WHERE key = ?`, MetaLastBackup).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	} else if err != nil {
		return time.Time{}, fmt.Errorf("last backup: %w", err)
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("last backup: %q: %w", v, err)
	}
	return t, nil
}

// samePath reports whether a and b name the same existing file.
func samePath(a, b string) (bool, error) {
	sa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	sb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	return os.SameFile(sa, sb), nil
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes a rename in dir durable (a no-op where directories cannot
// be synced).
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	_ = d.Sync() // best effort: some file systems refuse to sync a folder
	return nil
}
