package store_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"prodays/store"
)

// TestBackgroundCheckpoint: with BackgroundCheckpoint, the writer never
// checkpoints in its commits (wal_autocheckpoint 0), and the WAL still
// reaches the database file without anyone else checkpointing: the
// database file grows by the rows written while the test only waits.
func TestBackgroundCheckpoint(t *testing.T) {
	for _, background := range []bool{false, true} {
		t.Run(map[bool]string{false: "writer", true: "background"}[background], func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "prodays.db")
			db, err := store.Open(ctx, path, store.Options{BackgroundCheckpoint: background, CheckpointEvery: 20 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var auto int
			if err := db.Write.QueryRow(`PRAGMA wal_autocheckpoint`).Scan(&auto); err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int{false: 1000, true: 0}[background]; auto != want {
				t.Fatalf("writer's wal_autocheckpoint %d, want %d", auto, want)
			}
			if _, err := db.Write.Exec(`CREATE TABLE filler (v TEXT)`); err != nil {
				t.Fatal(err)
			}
			before := fileSize(t, path)
			row := strings.Repeat("x", 4000)
			for range 50 { // 50 commits of 20 rows of 4 KB: about 1,000 pages
				tx, err := db.Write.Begin()
				if err != nil {
					t.Fatal(err)
				}
				for range 20 {
					if _, err := tx.Exec(`INSERT INTO filler VALUES (?)`, row); err != nil {
						t.Fatal(err)
					}
				}
				if err := tx.Commit(); err != nil {
					t.Fatal(err)
				}
			}
			// The background checkpointer copies the WAL within a few
			// periods; the writer's own checkpoint ran at its 1,000th page.
			deadline := time.Now().Add(10 * time.Second)
			for fileSize(t, path)-before < 3<<20 {
				if time.Now().After(deadline) {
					t.Fatalf("database file %d bytes after writing 4 MB (%d before): the WAL was not checkpointed", fileSize(t, path), before)
				}
				time.Sleep(10 * time.Millisecond)
			}
			if !background {
				return
			}
			// Close stops the checkpointer before the pools.
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
