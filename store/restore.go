package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// ErrInUse is returned by Restore when a process has the database open.
var ErrInUse = errors.New("the database is in use (stop the server first)")

// Restore verifies backup (CheckIntegrity) and copies it over target
// (atomically: copy to a temporary file beside target, FinalizeRestore
// it (a new history epoch), rename),
// removing target's stale -wal and -shm. It refuses when backup is target,
// and with ErrInUse when target is open by any process.
//
// In use is detected with SQLite's own locks, which work across
// processes: every connection to a WAL database keeps a SHARED lock on the
// database file for as long as it is open (that is how SQLite knows the
// last connection is closing), so a connection in EXCLUSIVE locking mode
// cannot take its EXCLUSIVE lock while a server has the file open. The
// lock is held until the new file is in place.
func Restore(ctx context.Context, backup, target string) error {
	if err := CheckIntegrity(ctx, backup); err != nil {
		return err
	}
	if same, _ := samePath(backup, target); same {
		return errors.New("restore: the backup is the database itself")
	}
	release, err := lockExclusive(ctx, target)
	if err != nil {
		return err
	}
	tmp := target + ".restore.tmp"
	if err := copyFile(backup, tmp); err != nil {
		release()
		os.Remove(tmp)
		return fmt.Errorf("restore: %w", err)
	}
	if _, err := FinalizeRestore(ctx, tmp); err != nil {
		release()
		os.Remove(tmp)
		return fmt.Errorf("restore: %w", err)
	}
	// Closing the lock connection may checkpoint the old WAL into the old
	// file; both go next.
	release()
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		if err := os.Remove(target + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			os.Remove(tmp)
			return fmt.Errorf("restore: remove stale %s: %w", suffix, err)
		}
	}
	if err := os.Rename(tmp, target); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("restore: %w", err)
	}
	_ = syncDir(filepath.Dir(target)) // the new file is in place; a failed sync is not a failed restore
	return nil
}

// CheckIntegrity opens the database at path read-only and runs PRAGMA
// integrity_check; it returns an error quoting the first five problems,
// or saying that the file is not a readable SQLite database or not a
// prodays one (no app_meta and goose_db_version tables).
func CheckIntegrity(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(1000)")
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return fmt.Errorf("restore: %s is not a readable SQLite database: %w", path, err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		if s != "ok" && len(problems) < 5 {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("restore: %s is not a readable SQLite database: %w", path, err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("restore: %s fails the integrity check: %s", path, strings.Join(problems, "; "))
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE name IN ('app_meta', 'goose_db_version')`).Scan(&n); err != nil || n != 2 {
		return fmt.Errorf("restore: %s is not a prodays database", path)
	}
	return nil
}

// lockExclusive takes an EXCLUSIVE lock on the database at path (when it
// exists) and returns the function that releases it; ErrInUse when another
// connection has it open.
func lockExclusive(ctx context.Context, path string) (func(), error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return func() {}, nil
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(500)")
	q.Add("_pragma", "locking_mode(EXCLUSIVE)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err == nil {
		// A write transaction needs the EXCLUSIVE lock; in WAL mode with
		// exclusive locking even reading the schema asks for it.
		_, err = conn.ExecContext(ctx, `BEGIN EXCLUSIVE`)
		if err == nil {
			_, err = conn.ExecContext(ctx, `COMMIT`)
		}
	}
	if err != nil {
		if conn != nil {
			conn.Close()
		}
		db.Close()
		if strings.Contains(err.Error(), "SQLITE_BUSY") || strings.Contains(err.Error(), "locked") {
			return nil, fmt.Errorf("restore: %s: %w", path, ErrInUse)
		}
		return nil, fmt.Errorf("restore: lock %s: %w", path, err)
	}
	return func() { conn.Close(); db.Close() }, nil
}

// copyFile copies src to dst (created or truncated, mode 0600) and syncs it.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	// A file left by an earlier run keeps its mode through O_TRUNC.
	if err := out.Chmod(0o600); err != nil {
		out.Close()
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
