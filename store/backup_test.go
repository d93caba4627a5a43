package store_test

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"prodays/store"
)

// TestBackupWhileWriting backs up while a goroutine commits rows without
// pause: the copy must pass integrity_check, hold every row committed
// before the backup started, and be internally consistent (each
// transaction writes one audit row and one change row; the copy has as
// many of each).
func TestBackupWhileWriting(t *testing.T) {
	db, ctx := openDB(t)
	var committed atomic.Int64
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		for i := int64(1); ; i++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			err := db.WithTx(ctx, func(tx *sql.Tx) error {
				if err := store.Audit(ctx, tx, time.Now(), store.AuditEntry{Action: "test.write", Target: fmt.Sprint(i)}); err != nil {
					return err
				}
				return store.RecordChange(ctx, tx, store.Change{Entity: "test", ID: fmt.Sprint(i), Op: "upsert"})
			})
			if err != nil {
				done <- err
				return
			}
			committed.Store(i)
		}
	}()
	// Let some rows in, so the snapshot has a WAL to read from.
	for committed.Load() < 50 {
		time.Sleep(time.Millisecond)
	}
	dest := filepath.Join(t.TempDir(), "backups", "copy.db")
	var before int64
	for round := 0; round < 3; round++ {
		before = committed.Load()
		if err := db.Backup(ctx, dest); err != nil {
			t.Fatal(err)
		}
	}
	after := committed.Load()
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(dest); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup file mode: %v %v, want 0600", st.Mode(), err)
	}
	if _, err := os.Stat(dest + ".tmp"); !os.IsNotExist(err) {
		t.Fatalf("temporary file left behind: %v", err)
	}

	cp, err := sql.Open("sqlite", "file:"+dest+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	var check string
	if err := cp.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q %v", check, err)
	}
	var audits, changes, maxID int64
	if err := cp.QueryRow(`SELECT count(*), coalesce(max(CAST(target AS INTEGER)), 0) FROM audit_log WHERE action = 'test.write'`).Scan(&audits, &maxID); err != nil {
		t.Fatal(err)
	}
	if err := cp.QueryRow(`SELECT count(*) FROM changes WHERE entity = 'test'`).Scan(&changes); err != nil {
		t.Fatal(err)
	}
	t.Logf("committed before the last backup: %d, in the copy: %d, committed when it ended: %d", before, audits, after)
	if audits < before {
		t.Fatalf("copy holds %d rows, want at least the %d committed before the backup", audits, before)
	}
	if audits != changes || audits != maxID {
		t.Fatalf("copy inconsistent: %d audit rows, %d change rows, max id %d", audits, changes, maxID)
	}
	var regions int
	if err := cp.QueryRow(`SELECT count(*) FROM regions`).Scan(&regions); err != nil || regions != 12 {
		t.Fatalf("regions in the copy: %d %v", regions, err)
	}

	last, err := db.LastBackup(ctx)
	if err != nil || last.IsZero() || time.Since(last) > time.Minute {
		t.Fatalf("last backup: %v %v", last, err)
	}
}

func TestBackupRefusesLiveDatabase(t *testing.T) {
	db, ctx := openDB(t)
	if err := db.Backup(ctx, db.Path); err == nil {
		t.Fatal("backup over the live database succeeded")
	}
}

func TestLastBackupNone(t *testing.T) {
	db, ctx := openDB(t)
	last, err := db.LastBackup(ctx)
	if err != nil || !last.IsZero() {
		t.Fatalf("got %v %v, want zero", last, err)
	}
}
