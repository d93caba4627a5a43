package store_test

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"

	"prodays/internal/testenv"
	"prodays/store"
)

// TestFileModes opens a new database and backs it up under umask 000:
// the database, its -wal and -shm, and the backup are owner-only (0600).
func TestFileModes(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "prodays.db")
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Write.ExecContext(ctx, `INSERT INTO app_meta (key, value) VALUES ('mode-test', 'x')`); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(t.TempDir(), "b.db")
	if err := db.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	testenv.WantMode(t, 0o600, path, path+"-wal", path+"-shm", backup)
}
