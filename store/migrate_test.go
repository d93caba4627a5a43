package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
)

// TestMigration33KeepsMutations: a database written before 00033 (every
// check-in with its mutations row) migrates forward with its mutations
// unchanged through the view, and its check-ins get their seq and user.
func TestMigration33KeepsMutations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	w, err := sql.Open("sqlite", dsn(path, 5*time.Second, false))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.SetMaxOpenConns(1)
	p, err := goose.NewProvider(goose.DialectSQLite3, w, migrationsFS())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 32); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO mutations (id, device_id, username, seq, type, status, received_at, payload) VALUES
			('c1', 'd1', 'staff1', 7, 'attendance.check_in', 'applied', '2026-03-23T09:00:00.000Z', '{"id":"c1","seq":7}'),
			('c2', 'd1', 'staff1', 8, 'attendance.check_in', 'flagged', '2026-03-23T09:00:00.000Z', '{"id":"c2","seq":8}'),
			('r1', 'd1', 'staff1', 9, 'attendance.check_in', 'rejected', '2026-03-23T09:00:00.000Z', '{"id":"r1","seq":9}')`,
		`INSERT INTO checkins (id, activity_id, person_kind, person_id, original_person_id, device_id, method, recorded_at, occurred_at, received_at, status) VALUES
			('c1', 'A', 'trainee', 'T', 'T', 'd1', 'qr', '2026-03-23T09:00:00.000Z', '2026-03-23T09:00:00.000Z', '2026-03-23T09:00:00.000Z', 'applied'),
			('c2', 'A', 'trainee', 'T', 'T', 'd1', 'qr', '2026-03-23T09:00:00.000Z', '2026-03-23T09:00:00.000Z', '2026-03-23T09:00:00.000Z', 'flagged')`,
	} {
		if _, err := w.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := migrate(ctx, w); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := w.QueryRowContext(ctx, `SELECT group_concat(id || ':' || seq || ':' || status || ':' || payload, ' ') FROM (SELECT * FROM mutations ORDER BY id)`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if want := `c1:7:applied:{"id":"c1","seq":7} c2:8:flagged:{"id":"c2","seq":8} r1:9:rejected:{"id":"r1","seq":9}`; got != want {
		t.Errorf("mutations after 00033:\n got %s\nwant %s", got, want)
	}
	if err := w.QueryRowContext(ctx, `SELECT group_concat(id || ':' || seq || ':' || username, ' ') FROM (SELECT * FROM checkins ORDER BY id)`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if want := `c1:7:staff1 c2:8:staff1`; got != want {
		t.Errorf("checkins after 00033: got %s, want %s", got, want)
	}
	// A check-in applied on receipt (no mutation_log row) shows as its
	// mutation, applied.
	if _, err := w.ExecContext(ctx, `INSERT INTO checkins (id, activity_id, person_kind, person_id, original_person_id, device_id, method, recorded_at, occurred_at, received_at, status, seq, username)
		VALUES ('c3', 'A', 'speaker', 'S', 'S', 'd1', 'search', '2026-03-23T09:00:00.000Z', '2026-03-23T09:01:00.000Z', '2026-03-23T09:02:00.000Z', 'applied', 10, 'staff1')`); err != nil {
		t.Fatal(err)
	}
	if err := w.QueryRowContext(ctx, `SELECT id || ':' || device_id || ':' || username || ':' || seq || ':' || type || ':' || status || ':' || recorded_at || ':' || occurred_at || ':' || received_at || ':' || payload
		FROM mutations WHERE id = 'c3'`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if want := `c3:d1:staff1:10:attendance.check_in:applied:2026-03-23T09:00:00.000Z:2026-03-23T09:01:00.000Z:2026-03-23T09:02:00.000Z:` +
		`{"id":"c3","seq":10,"type":"attendance.check_in","recorded_at":"2026-03-23T09:00:00.000Z","activity_id":"A","person":{"kind":"speaker","id":"S"},"method":"search"}`; got != want {
		t.Errorf("check-in as a mutation:\n got %s\nwant %s", got, want)
	}
}
