package store_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"prodays/store"
)

// openDB opens a real SQLite file in a temporary folder (in a sub-folder
// that Open creates), closed when the test ends, and returns it with the
// context the test runs its calls in.
func openDB(tb testing.TB) (*store.DB, context.Context) {
	tb.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(tb.TempDir(), "sub", "prodays.db"), store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db, ctx
}

func TestOpenAppliesSchema(t *testing.T) {
	db, ctx := openDB(t)
	var n int
	if err := db.Read.QueryRow(`SELECT count(*) FROM regions`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 12 {
		t.Fatalf("regions: got %d, want 12", n)
	}
	var mode string
	if err := db.Write.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Fatalf("journal_mode: got %q, want wal", mode)
	}
	var fk int
	if err := db.Write.QueryRow(`PRAGMA foreign_keys`).Scan(&fk); err != nil {
		t.Fatal(err)
	}
	if fk != 1 {
		t.Fatalf("foreign_keys: got %d, want 1", fk)
	}
	cur, latest, err := db.SchemaVersion(ctx)
	if err != nil || cur != latest || cur < 1 {
		t.Fatalf("schema version: %d/%d %v", cur, latest, err)
	}
}

func TestReadPoolIsReadOnly(t *testing.T) {
	db, _ := openDB(t)
	if _, err := db.Read.Exec(`INSERT INTO app_meta (key, value) VALUES ('x', 'y')`); err == nil {
		t.Fatal("insert through the read pool succeeded; want an error")
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "prodays.db")
	db, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Write.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (999999, 1)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = store.Open(context.Background(), path, store.Options{})
	if !errors.Is(err, store.ErrNewerSchema) {
		t.Fatalf("open newer: got %v, want ErrNewerSchema", err)
	}
}

func TestChangeLogNetEffect(t *testing.T) {
	db, ctx := openDB(t)
	err := db.WithTx(ctx, func(tx *sql.Tx) error {
		for _, c := range []store.Change{
			{Entity: "trainee", ID: "A", Op: "upsert"},
			{Entity: "trainee", ID: "B", Op: "upsert"},
			{Entity: "trainee", ID: "A", Op: "delete"},
		} {
			if err := store.RecordChange(ctx, tx, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.Read.Query(`SELECT seq, entity_id, op FROM changes ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	var last int64
	for rows.Next() {
		var seq int64
		var id, op string
		rows.Scan(&seq, &id, &op)
		if seq <= last {
			t.Fatalf("seq not increasing: %d after %d", seq, last)
		}
		last = seq
		got = append(got, id+":"+op)
	}
	want := []string{"B:upsert", "A:delete"}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("changes: got %v, want %v", got, want)
	}
	if last != 3 {
		t.Fatalf("last seq: got %d, want 3 (one sequence, never reused)", last)
	}
}

// TestNoAutoCheckpoint: with NoAutoCheckpoint the writer leaves
// checkpoints to Litestream (wal_autocheckpoint 0); by default SQLite's
// 1000 pages stand.
func TestNoAutoCheckpoint(t *testing.T) {
	for _, c := range []struct {
		off  bool
		want int
	}{{false, 1000}, {true, 0}} {
		db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "p.db"), store.Options{NoAutoCheckpoint: c.off})
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.Write.QueryRow(`PRAGMA wal_autocheckpoint`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if n != c.want {
			t.Errorf("NoAutoCheckpoint %v: wal_autocheckpoint %d, want %d", c.off, n, c.want)
		}
	}
}
