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

// Rows returns one T per row that query selects on db's read pool, made
// by scan (store.Query); the test fails on any error of the query, of scan
// or of the iteration.
func Rows[T any](tb testing.TB, db *store.DB, scan func(store.Scanner) (T, error), query string, args ...any) []T {
	tb.Helper()
	out, err := store.Query(context.Background(), db.Read, scan, query, args...)
	if err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return out
}

// Value returns the one value of the one row that query selects on db's
// read pool; the test fails on any error (no row included), so that an
// assertion on a count of 0 cannot pass on a broken query.
func Value[T any](tb testing.TB, db *store.DB, query string, args ...any) T {
	tb.Helper()
	var v T
	if err := db.Read.QueryRowContext(context.Background(), query, args...).Scan(&v); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return v
}

// String scans a row of one text column.
func String(r store.Scanner) (string, error) {
	var s string
	err := r.Scan(&s)
	return s, err
}

// Pair scans a row of two text columns.
func Pair(r store.Scanner) ([2]string, error) {
	var p [2]string
	err := r.Scan(&p[0], &p[1])
	return p, err
}

// Fingerprint returns, for every table of db, its row count and a SHA-256
// of all its rows in rowid order ("n:hash"): two equal fingerprints mean
// an unchanged database.
func Fingerprint(tb testing.TB, db *store.DB) map[string]string {
	tb.Helper()
	tables := Rows(tb, db, String, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	out := make(map[string]string, len(tables))
	for _, t := range tables {
		h := sha256.New()
		n := 0
		EachRow(tb, db.Read, `SELECT * FROM "`+t+`" ORDER BY rowid`, func(vals []any) {
			fmt.Fprintf(h, "%q\n", vals)
			n++
		})
		out[t] = fmt.Sprintf("%d:%s", n, hex.EncodeToString(h.Sum(nil))[:16])
	}
	return out
}

// EachRow calls fn with the values of every column of every row that
// query selects on q (vals is reused from row to row); the test fails on
// any error of the query, of a scan or of the iteration.
func EachRow(tb testing.TB, q store.Querier, query string, fn func(vals []any)) {
	tb.Helper()
	rows, err := q.QueryContext(context.Background(), query)
	if err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		tb.Fatal(err)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			tb.Fatal(err)
		}
		fn(vals)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
}
