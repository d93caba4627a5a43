package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
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
	fs := newFlagSet("backup", stderr)
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

// runRestore puts a backup, or a replica's state, in place of the
// database:
//
//	prodays restore FILE [--db …]
//	prodays restore --from URL [--at RFC3339] [--db …]   (restore.go)
//
// It refuses while the database is open by a server (or any process), and
// it verifies the backup with PRAGMA integrity_check first.
func runRestore(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	cfg := DefaultConfig()
	fs := newFlagSet("restore", stderr)
	bindDB(fs, &cfg)
	from := fs.String("from", "", "restore from this replica URL (see serve --replicate) instead of a backup FILE")
	at := fs.String("at", "", "with --from: the replica's state at this RFC 3339 time (default: its newest)")
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
	}
	if *from != "" || *at != "" {
		if file != "" || fs.NArg() > 1 || *from == "" {
			fmt.Fprintln(stderr, "usage: prodays restore --from URL [--at RFC3339] [--db DATABASE] (no FILE with --from)")
			return errUsageShown
		}
		return restoreFromReplica(ctx, *from, *at, cfg.DB, stdout, stderr)
	}
	if fs.NArg() > 1 || file == "" {
		fmt.Fprintln(stderr, "usage: prodays restore FILE [--db DATABASE]\n       prodays restore --from URL [--at RFC3339] [--db DATABASE]")
		return errUsageShown
	}
	if err := putInPlace(ctx, file, cfg.DB); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s to %s\n", file, cfg.DB)
	return nil
}
