package store_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"prodays/store"
)

// TestEpochRenewedByRestore: a new database has a history epoch (128
// random bits in hex); a backup keeps it; Restore puts the backup in
// place with a new one (FinalizeRestore), and leaves no -wal or -shm
// beside the restored file.
func TestEpochRenewedByRestore(t *testing.T) {
	db, ctx := openDB(t)
	epoch, err := store.Epoch(ctx, db.Read)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(epoch) {
		t.Fatalf("epoch %q, want 32 hex digits", epoch)
	}
	backup := filepath.Join(t.TempDir(), "b.db")
	if err := db.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "restored.db")
	if err := store.Restore(ctx, backup, target); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"-wal", "-shm", ".restore.tmp", ".restore.tmp-wal"} {
		if _, err := os.Stat(target + suffix); err == nil {
			t.Errorf("%s is left beside the restored database", suffix)
		}
	}
	restored, err := store.Open(ctx, target, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	got, err := store.Epoch(ctx, restored.Read)
	if err != nil {
		t.Fatal(err)
	}
	if got == epoch || len(got) != 32 {
		t.Fatalf("restored epoch %q, want a new one (the backup's was %q)", got, epoch)
	}
	// The backup itself is untouched.
	b, err := store.Open(ctx, backup, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if e, _ := store.Epoch(ctx, b.Read); e != epoch {
		t.Fatalf("the backup's epoch became %q, want %q", e, epoch)
	}
	// Another restore of the same backup: another epoch.
	if err := store.Restore(ctx, backup, target+"2"); err != nil {
		t.Fatal(err)
	}
	again, err := store.FinalizeRestore(ctx, target+"2")
	if err != nil || again == got || again == epoch {
		t.Fatalf("FinalizeRestore again: %q, %v (epochs so far %q, %q)", again, err, epoch, got)
	}
}
