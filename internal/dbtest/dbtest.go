// Package dbtest opens real SQLite databases for tests: a file in the
// test's temporary folder (never :memory:, which gives each pooled
// connection its own empty database), closed when the test ends. It imports
// only the store, so any package's tests may use it.
package dbtest

import (
	"context"
	"path/filepath"
	"testing"

	"prodays/store"
)

// Open opens a fresh database file in tb.TempDir() with the migrations
// applied; it fails tb on error.
func Open(tb testing.TB) *store.DB {
	tb.Helper()
	db, err := store.Open(context.Background(), filepath.Join(tb.TempDir(), "prodays.db"), store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}
