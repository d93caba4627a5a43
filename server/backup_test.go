package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"prodays/store"
)

func openStore(t *testing.T, path string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func setMeta(t *testing.T, db *store.DB, key, value string) {
	t.Helper()
	err := db.WithTx(context.Background(), func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO app_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func meta(t *testing.T, db *store.DB, key string) string {
	t.Helper()
	var v string
	if err := db.Read.QueryRow(`SELECT value FROM app_meta WHERE key = ?`, key).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestBackupThenRestore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	live := filepath.Join(dir, "data", "prodays.db")
	bk := filepath.Join(dir, "backups", "one.db")
	db := openStore(t, live)
	setMeta(t, db, "marker", "before")

	var out, errb bytes.Buffer
	if err := run(ctx, []string{"backup", "--out", bk, "--db", live}, nil, &out, &errb); err != nil {
		t.Fatalf("backup: %v %s", err, errb.String())
	}
	setMeta(t, db, "marker", "after")

	// The database is open: restore refuses and leaves it alone.
	err := run(ctx, []string{"restore", bk, "--db", live}, nil, &out, &errb)
	if !errors.Is(err, store.ErrInUse) {
		t.Fatalf("restore over an open database: got %v, want ErrInUse", err)
	}
	if got := meta(t, db, "marker"); got != "after" {
		t.Fatalf("database changed by a refused restore: %q", got)
	}
	db.Close()

	// A corrupt backup is refused.
	bad := filepath.Join(dir, "bad.db")
	data, _ := os.ReadFile(bk)
	for i := 4096; i < len(data) && i < 4096*3; i++ {
		data[i] ^= 0x5a
	}
	os.WriteFile(bad, data, 0o600)
	if err := run(ctx, []string{"restore", "--db", live, bad}, nil, &out, &errb); err == nil {
		t.Fatal("restore of a corrupt backup succeeded")
	}
	notDB := filepath.Join(dir, "notdb.db")
	os.WriteFile(notDB, []byte("hello"), 0o600)
	if err := run(ctx, []string{"restore", notDB, "--db", live}, nil, &out, &errb); err == nil {
		t.Fatal("restore of a text file succeeded")
	}

	// Stopped: restore puts the backup in place and removes stale WAL files.
	os.WriteFile(live+"-wal", []byte("stale"), 0o600)
	if err := run(ctx, []string{"restore", bk, "--db", live}, nil, &out, &errb); err != nil {
		t.Fatalf("restore: %v %s", err, errb.String())
	}
	if _, err := os.Stat(live + "-wal"); !os.IsNotExist(err) {
		t.Fatalf("stale -wal left: %v", err)
	}
	db = openStore(t, live)
	defer db.Close()
	if got := meta(t, db, "marker"); got != "before" {
		t.Fatalf("restored marker: got %q, want before", got)
	}
}

func TestBackupUsage(t *testing.T) {
	for _, args := range [][]string{
		{"backup"},
		{"backup", "--out", "x.db", "--every", "1m", "--dir", "d"},
		{"backup", "--every", "1m"},
		{"restore"},
	} {
		var out, errb bytes.Buffer
		if err := run(context.Background(), args, nil, &out, &errb); !errors.Is(err, errUsageShown) {
			t.Errorf("%v: got %v, want usage", args, err)
		}
	}
}

func TestBackupLoopWritesAndStops(t *testing.T) {
	dir := t.TempDir()
	db := openStore(t, filepath.Join(dir, "prodays.db"))
	defer db.Close()
	bdir := filepath.Join(dir, "backups")
	// Old backups beyond --keep, and files that are not ours.
	os.MkdirAll(bdir, 0o750)
	for _, n := range []string{"prodays-20200101T000000Z.db", "prodays-20200102T000000Z.db", "prodays-20200103T000000Z.db", "notes.txt", "prodays-x.db"} {
		os.WriteFile(filepath.Join(bdir, n), nil, 0o600)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- backupLoop(ctx, db, slog.New(slog.DiscardHandler), bdir, time.Hour, 2) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if last, _ := db.LastBackup(context.Background()); !last.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no backup within 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("loop did not stop")
	}
	entries, _ := os.ReadDir(bdir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	// keep 2: the newest old one and today's; others untouched.
	if len(names) != 4 || !slices.Contains(names, "prodays-20200103T000000Z.db") || !slices.Contains(names, "notes.txt") || !slices.Contains(names, "prodays-x.db") {
		t.Fatalf("after prune: %v", names)
	}
	for _, n := range names {
		if strings.HasPrefix(n, "prodays-20") && !strings.HasPrefix(n, "prodays-2020") {
			if err := store.CheckIntegrity(context.Background(), filepath.Join(bdir, n)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestRestoreRefusedAcrossProcesses holds the database open in another
// process (this test binary, re-run as a helper), as a running server
// would: restore must refuse until that process exits.
func TestRestoreRefusedAcrossProcesses(t *testing.T) {
	if path := os.Getenv("PRODAYS_TEST_HOLD_DB"); path != "" {
		db := openStore(t, path)
		db.Read.Exec(`SELECT 1 FROM app_meta`)
		os.Stdout.WriteString("ready\n")
		io.Copy(io.Discard, os.Stdin) // until the parent closes stdin
		db.Close()
		return
	}
	ctx := context.Background()
	dir := t.TempDir()
	live := filepath.Join(dir, "prodays.db")
	bk := filepath.Join(dir, "backup.db")
	db := openStore(t, live)
	if err := db.Backup(ctx, bk); err != nil {
		t.Fatal(err)
	}
	db.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestRestoreRefusedAcrossProcesses$")
	cmd.Env = append(os.Environ(), "PRODAYS_TEST_HOLD_DB="+live)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		stdin.Close()
		cmd.Wait()
		t.Fatalf("helper: %q %v", line, err)
	}
	if err := store.Restore(ctx, bk, live); !errors.Is(err, store.ErrInUse) {
		t.Errorf("restore while another process has the database open: %v, want ErrInUse", err)
	}
	stdin.Close()
	go io.Copy(io.Discard, stdout)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
	if err := store.Restore(ctx, bk, live); err != nil {
		t.Fatalf("restore after the other process exited: %v", err)
	}
}
