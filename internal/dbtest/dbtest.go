// Package dbtest opens real SQLite databases for tests: a file in the
// test's temporary folder (never :memory:, which gives each pooled
// connection its own empty database), closed when the test ends. It imports
// only the store, so any package's tests may use it.
package dbtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
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

// Fingerprint returns, for every table of db, its row count and a SHA-256
// of all its rows in rowid order ("n:hash"): two equal fingerprints mean
// an unchanged database.
func Fingerprint(tb testing.TB, db *store.DB) map[string]string {
	tb.Helper()
	rows, err := db.Read.Query(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		tb.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			tb.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	out := make(map[string]string, len(tables))
	for _, t := range tables {
		r, err := db.Read.Query(`SELECT * FROM "` + t + `" ORDER BY rowid`)
		if err != nil {
			tb.Fatal(err)
		}
		cols, _ := r.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		h := sha256.New()
		n := 0
		for r.Next() {
			if err := r.Scan(ptrs...); err != nil {
				tb.Fatal(err)
			}
			fmt.Fprintf(h, "%q\n", vals)
			n++
		}
		r.Close()
		out[t] = fmt.Sprintf("%d:%s", n, hex.EncodeToString(h.Sum(nil))[:16])
	}
	return out
}
