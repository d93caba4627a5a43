package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
)

// openAt opens a new database file migrated up to version (the writer's
// DSN, one connection), as an older prodays left it.
func openAt(t *testing.T, version int64) *sql.DB {
	t.Helper()
	w, err := sql.Open("sqlite", dsn(filepath.Join(t.TempDir(), "old.db"), 5*time.Second, false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	w.SetMaxOpenConns(1)
	p, err := goose.NewProvider(goose.DialectSQLite3, w, migrationsFS())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(context.Background(), version); err != nil {
		t.Fatal(err)
	}
	return w
}

// migrateFrom opens a database at version (openAt), runs the statements
// an older prodays would have written, then migrates it to the latest
// version.
func migrateFrom(t *testing.T, version int64, statements ...string) *sql.DB {
	t.Helper()
	w := openAt(t, version)
	ctx := context.Background()
	for _, q := range statements {
		if _, err := w.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := migrate(ctx, w); err != nil {
		t.Fatal(err)
	}
	return w
}

// queryString returns the one string q selects.
func queryString(t *testing.T, w *sql.DB, q string) string {
	t.Helper()
	var got string
	if err := w.QueryRowContext(context.Background(), q).Scan(&got); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestMigration33KeepsMutations: a database written before 00033 (every
// check-in with its mutations row) migrates forward with its mutations
// unchanged through the view, and its check-ins get their seq and user.
func TestMigration33KeepsMutations(t *testing.T) {
	ctx := context.Background()
	w := migrateFrom(t, 32,
		`INSERT INTO mutations (id, device_id, username, seq, type, status, received_at, payload) VALUES
			('c1', 'd1', 'staff1', 7, 'attendance.check_in', 'applied', '2026-03-23T09:00:00.000Z', '{"id":"c1","seq":7}'),
			('c2', 'd1', 'staff1', 8, 'attendance.check_in', 'flagged', '2026-03-23T09:00:00.000Z', '{"id":"c2","seq":8}'),
			('r1', 'd1', 'staff1', 9, 'attendance.check_in', 'rejected', '2026-03-23T09:00:00.000Z', '{"id":"r1","seq":9}')`,
		`INSERT INTO checkins (id, activity_id, person_kind, person_id, original_person_id, device_id, method, recorded_at, occurred_at, received_at, status) VALUES
			('c1', 'A', 'trainee', 'T', 'T', 'd1', 'qr', '2026-03-23T09:00:00.000Z', '2026-03-23T09:00:00.000Z', '2026-03-23T09:00:00.000Z', 'applied'),
			('c2', 'A', 'trainee', 'T', 'T', 'd1', 'qr', '2026-03-23T09:00:00.000Z', '2026-03-23T09:00:00.000Z', '2026-03-23T09:00:00.000Z', 'flagged')`,
	)
	got := queryString(t, w, `SELECT group_concat(id || ':' || seq || ':' || status || ':' || payload, ' ') FROM (SELECT * FROM mutations ORDER BY id)`)
	if want := `c1:7:applied:{"id":"c1","seq":7} c2:8:flagged:{"id":"c2","seq":8} r1:9:rejected:{"id":"r1","seq":9}`; got != want {
		t.Errorf("mutations after 00033:\n got %s\nwant %s", got, want)
	}
	got = queryString(t, w, `SELECT group_concat(id || ':' || seq || ':' || username, ' ') FROM (SELECT * FROM checkins ORDER BY id)`)
	if want := `c1:7:staff1 c2:8:staff1`; got != want {
		t.Errorf("checkins after 00033: got %s, want %s", got, want)
	}
	// A check-in applied on receipt (no mutation_log row) shows as its
	// mutation, applied.
	if _, err := w.ExecContext(ctx, `INSERT INTO checkins (id, activity_id, person_kind, person_id, original_person_id, device_id, method, recorded_at, occurred_at, received_at, status, seq, username)
		VALUES ('c3', 'A', 'speaker', 'S', 'S', 'd1', 'search', '2026-03-23T09:00:00.000Z', '2026-03-23T09:01:00.000Z', '2026-03-23T09:02:00.000Z', 'applied', 10, 'staff1')`); err != nil {
		t.Fatal(err)
	}
	got = queryString(t, w, `SELECT id || ':' || device_id || ':' || username || ':' || seq || ':' || type || ':' || status || ':' || recorded_at || ':' || occurred_at || ':' || received_at || ':' || payload
		FROM mutations WHERE id = 'c3'`)
	if want := `c3:d1:staff1:10:attendance.check_in:applied:2026-03-23T09:00:00.000Z:2026-03-23T09:01:00.000Z:2026-03-23T09:02:00.000Z:` +
		`{"id":"c3","seq":10,"type":"attendance.check_in","recorded_at":"2026-03-23T09:00:00.000Z","activity_id":"A","person":{"kind":"speaker","id":"S"},"method":"search"}`; got != want {
		t.Errorf("check-in as a mutation:\n got %s\nwant %s", got, want)
	}
}

// TestMigration34AttendanceSeq: a database written before 00034 (each
// presence's change in the change log) migrates forward with each row
// holding its change's seq in its place of the sequence, the log keeping
// the rest (deletes, other entities), and the sequence going on after
// the highest value.
func TestMigration34AttendanceSeq(t *testing.T) {
	ctx := context.Background()
	w := migrateFrom(t, 33,
		`INSERT INTO establishments (code, name, city, region_code) VALUES ('E1', 'ISTA', 'Rabat', 'RSK')`,
		`INSERT INTO activities (id, kind, title, date, start_time, end_time, establishment_code, region_code) VALUES ('A', 'meeting', 'M', '2026-03-23', '09:00', '10:00', 'E1', 'RSK')`,
		`INSERT INTO attendance (activity_id, person_kind, person_id, present, checked_in_at, check_in_ids, updated_at) VALUES
			('A', 'trainee', 'T1', 1, '2026-03-23T09:00:00.000Z', '["c1"]', 'x'),
			('A', 'trainee', 'T2', 1, '2026-03-23T09:00:00.000Z', '["c2"]', 'x'),
			('A', 'speaker', 'S1', 1, '2026-03-23T09:00:00.000Z', '["c3"]', 'x'),
			('A', 'trainee', 'T3', 1, '2026-03-23T09:00:00.000Z', '["c4"]', 'x')`,
		`INSERT INTO changes (entity, entity_id, op, region_code, establishment_code) VALUES
			('attendance', 'A:trainee:T2', 'upsert', 'RSK', 'E1'),
			('trainee', 'T1', 'upsert', 'RSK', 'E1'),
			('attendance', 'A:trainee:T9', 'delete', 'RSK', 'E1'),
			('attendance', 'A:trainee:T1', 'upsert', 'RSK', 'E1'),
			('attendance', 'A:trainee:T8', 'upsert', 'RSK', 'E1'),
			('attendance', 'A:trainee:T3', 'upsert', 'RSK', 'E0')`,
	)
	got := queryString(t, w, `SELECT group_concat(person_id || ':' || seq, ' ') FROM (SELECT * FROM attendance ORDER BY person_id)`)
	// S1 had no entry: it keeps seq 0, out of pulls as before. T3's entry
	// names E0, a former establishment of A (moved by a re-import): its
	// entry becomes a delete under E0, and the row a new seq.
	if want := `S1:0 T1:4 T2:1 T3:7`; got != want {
		t.Errorf("attendance seqs after 00034: got %s, want %s", got, want)
	}
	// T8's upsert names a row that is gone: it stays, and a pull sends it
	// as a delete, as before.
	got = queryString(t, w, `SELECT group_concat(seq || ':' || entity || ':' || entity_id || ':' || op, ' ') FROM (SELECT * FROM changes ORDER BY seq)`)
	if want := `2:trainee:T1:upsert 3:attendance:A:trainee:T9:delete 5:attendance:A:trainee:T8:upsert 6:attendance:A:trainee:T3:delete`; got != want {
		t.Errorf("change log after 00034:\n got %s\nwant %s", got, want)
	}
	for _, want := range []int64{8, 9} {
		first, err := NextSeqs(ctx, w, 1)
		if err != nil || first != want {
			t.Fatalf("NextSeqs: %d %v, want %d", first, err, want)
		}
	}
	if err := RecordChange(ctx, w, Change{Entity: "trainee", ID: "T2", Op: "upsert"}); err != nil {
		t.Fatal(err)
	}
	if err := w.QueryRowContext(ctx, `SELECT seq FROM changes WHERE entity_id = 'T2'`).Scan(&got); err != nil || got != "10" {
		t.Errorf("the log's next entry: seq %s %v, want 10 (after the reserved values)", got, err)
	}
	// An attendance upsert moves the row to the end of the sequence and
	// drops the entity's entry in the log; one whose row is gone is a
	// delete in the log. RecordChange refuses an attendance upsert.
	if err := RecordChange(ctx, w, Change{Entity: "attendance", ID: "A:trainee:T1", Op: "upsert"}); err == nil {
		t.Error("RecordChange took an attendance upsert")
	}
	if err := TouchAttendance(ctx, w, Change{Entity: "attendance", ID: "A:trainee:T1", Op: "upsert"}, "A", "trainee", "T1"); err != nil {
		t.Fatal(err)
	}
	if err := TouchAttendance(ctx, w, Change{Entity: "attendance", ID: "A:trainee:T9", Op: "upsert", RegionCode: "RSK"}, "A", "trainee", "T9"); err != nil {
		t.Fatal(err)
	}
	got = queryString(t, w, `SELECT (SELECT seq FROM attendance WHERE person_id = 'T1') || ' ' ||
		(SELECT seq || ':' || op || ':' || region_code FROM changes WHERE entity_id = 'A:trainee:T9')`)
	if want := `11 13:delete:RSK`; got != want {
		t.Errorf("after two attendance changes: got %s, want %s", got, want)
	}
}

// TestMigration35WalkIn: check-ins written before 00035 are marked walk_in
// when they name a walk-in or no known trainee (held), not when they name
// a roster trainee or a speaker.
func TestMigration35WalkIn(t *testing.T) {
	w := migrateFrom(t, 34,
		`INSERT INTO establishments (code, name, city, region_code) VALUES ('E1', 'ISTA', 'Rabat', 'RSK')`,
		`INSERT INTO trainees (id, last_name, first_name, establishment_code, source, updated_at) VALUES
			('F25000100001A', 'N', 'P', 'E1', 'roster', 'x'), ('0195c9a4-0000-7000-8000-000000000001', 'N', 'P', 'E1', 'walk_in', 'x')`,
		`INSERT INTO checkins (id, activity_id, person_kind, person_id, original_person_id, device_id, method, recorded_at, occurred_at, received_at, status) VALUES
			('c1', 'A', 'trainee', 'F25000100001A', 'F25000100001A', 'd1', 'qr', 'x', 'x', 'x', 'applied'),
			('c2', 'A', 'trainee', '0195c9a4-0000-7000-8000-000000000001', '0195c9a4-0000-7000-8000-000000000001', 'd1', 'qr', 'x', 'x', 'x', 'applied'),
			('c3', 'A', 'trainee', '0195c9a4-0000-7000-8000-000000000002', '0195c9a4-0000-7000-8000-000000000002', 'd1', 'qr', 'x', 'x', 'x', 'flagged'),
			('c4', 'A', 'speaker', 'S1', 'S1', 'd1', 'qr', 'x', 'x', 'x', 'applied')`,
	)
	got := queryString(t, w, `SELECT group_concat(id || ':' || walk_in, ' ') FROM (SELECT * FROM checkins ORDER BY id)`)
	if want := `c1:0 c2:1 c3:1 c4:0`; got != want {
		t.Errorf("walk_in after 00035: got %s, want %s", got, want)
	}
}
