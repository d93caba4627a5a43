package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"prodays/store"
)

// backupPrefix and backupLayout name the files of a periodic backup:
// prodays-20260301T101500Z.db (UTC), so that names sort by time.
const (
	backupPrefix = "prodays-"
	backupLayout = "20060102T150405Z"
	backupSuffix = ".db"
)

// runBackup copies the live database (the server may be running):
//
//	prodays backup --out FILE [--db …]
//	prodays backup --every 15m --dir FOLDER [--keep 48] [--db …]
//
// The second form runs until SIGTERM/SIGINT, writing one file per period
// named with the UTC time and deleting the oldest beyond --keep.
func runBackup(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bindDB(fs, &cfg)
	out := fs.String("out", "", "write one backup to this file (replaced atomically)")
	every := fs.Duration("every", 0, "back up periodically at this interval (with --dir), until SIGTERM")
	dir := fs.String("dir", "", "folder of the periodic backups")
	keep := fs.Int("keep", 48, "number of periodic backups kept (the oldest beyond it are deleted)")
	if err := fs.Parse(args); err != nil {
		return errUsageShown
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "backup: unexpected argument %q\n", fs.Arg(0))
		return errUsageShown
	case (*out == "") == (*every == 0):
		fmt.Fprintln(stderr, "backup: give either --out FILE, or --every DURATION --dir FOLDER")
		return errUsageShown
	case *every != 0 && (*dir == "" || *every < time.Second || *keep < 1):
		fmt.Fprintln(stderr, "backup: --every needs --dir, an interval of at least 1s and --keep of at least 1")
		return errUsageShown
	}
	logger := newLogger(stderr)
	db, err := store.Open(ctx, cfg.DB, store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	if *out != "" {
		start := time.Now()
		if err := db.Backup(ctx, *out); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "backup written to %s in %s\n", *out, time.Since(start).Round(time.Millisecond))
		return nil
	}
	return backupLoop(ctx, db, logger, *dir, *every, *keep)
}

// backupLoop writes a backup now and then every period until ctx is done.
// A failed backup is logged and retried at the next period.
func backupLoop(ctx context.Context, db *store.DB, logger *slog.Logger, dir string, every time.Duration, keep int) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		now := time.Now().UTC()
		name := filepath.Join(dir, backupPrefix+now.Format(backupLayout)+backupSuffix)
		if err := db.Backup(ctx, name); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			logger.Error("backup failed", "err", err)
		} else {
			st, _ := os.Stat(name)
			logger.Info("backup written", "file", name, "bytes", sizeOf(st), "ms", time.Since(now).Milliseconds())
			removed, err := pruneBackups(dir, keep)
			if err != nil {
				logger.Error("prune backups", "err", err)
			}
			for _, r := range removed {
				logger.Info("old backup deleted", "file", r)
			}
		}
		select {
		case <-ctx.Done():
			logger.Info("backup loop stopped")
			return nil
		case <-t.C:
		}
	}
}

func sizeOf(st os.FileInfo) int64 {
	if st == nil {
		return 0
	}
	return st.Size()
}

// pruneBackups deletes the oldest periodic backups of dir beyond keep
// (only files named like backupLoop's) and returns what it deleted.
func pruneBackups(dir string, keep int) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(n, backupPrefix) || !strings.HasSuffix(n, backupSuffix) {
			continue
		}
		if _, err := time.Parse(backupLayout, strings.TrimSuffix(strings.TrimPrefix(n, backupPrefix), backupSuffix)); err != nil {
			continue
		}
		names = append(names, n)
	}
	slices.Sort(names)
	var removed []string
	for len(names) > keep {
		p := filepath.Join(dir, names[0])
		if err := os.Remove(p); err != nil {
			return removed, err
		}
		removed = append(removed, p)
		names = names[1:]
	}
	return removed, nil
}

// runRestore puts a backup in place of the database:
//
//	prodays restore FILE [--db …]
//
// It refuses while the database is open by a server (or any process), and
// it verifies the backup with PRAGMA integrity_check first.
func runRestore(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bindDB(fs, &cfg)
	// Accept the file before or after the flags.
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return errUsageShown
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	} else if fs.NArg() > 0 || file == "" {
		fmt.Fprintln(stderr, "usage: prodays restore FILE [--db DATABASE]")
		return errUsageShown
	}
	if err := restore(ctx, file, cfg.DB); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s to %s\n", file, cfg.DB)
	return nil
}

// ErrInUse is returned by restore when a process has the database open.
var ErrInUse = errors.New("the database is in use (stop the server first)")

// restore verifies backup and copies it over target (atomically: copy to a
// temporary file beside target, sync, rename), removing target's stale -wal
// and -shm. It refuses when target is in use.
//
// In use is detected with SQLite's own locks, which work across
// processes: every connection to a WAL database keeps a SHARED lock on the
// database file for as long as it is open (that is how SQLite knows the
// last connection is closing), so a connection in EXCLUSIVE locking mode
// cannot take its EXCLUSIVE lock while a server has the file open. The
// lock is held until the new file is in place.
func restore(ctx context.Context, backup, target string) error {
	if err := checkIntegrity(ctx, backup); err != nil {
		return err
	}
	if same, _ := sameFile(backup, target); same {
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
	if d, err := os.Open(filepath.Dir(target)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// checkIntegrity opens path read-only and runs PRAGMA integrity_check.
func checkIntegrity(ctx context.Context, path string) error {
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

func sameFile(a, b string) (bool, error) {
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
