package store

import (
	"context"
	"testing"
)

// TestMigration39RejectedFlags: a mutation whose flag a supervisor
// rejected before 00039 takes the flag's decision (it leaves the refused
// actions to review); a refused mutation without such a flag stays to
// review.
func TestMigration39RejectedFlags(t *testing.T) {
	ctx := context.Background()
	w := migrateFrom(t, 36,
		`INSERT INTO mutation_log (id, device_id, username, seq, type, status, code, received_at, payload) VALUES
			('m1', 'd1', 'u1', 1, 'attendance.check_in', 'rejected', 'flag_rejected', 'x', '{}'),
			('m2', 'd1', 'u1', 2, 'attendance.check_in', 'rejected', 'unknown_trainee', 'x', '{}')`,
		`INSERT INTO flags (kind, mutation_id, status, created_at, decided_by, decided_at, reason) VALUES
			('late', 'm1', 'rejected', 'x', 'sup1', '2026-03-23T18:00:00.000Z', 'left early')`,
	)
	rows, err := w.QueryContext(ctx, `SELECT id, COALESCE(review_decision, ''), COALESCE(review_decided_by, ''), COALESCE(review_decided_at, ''), COALESCE(review_reason, '') FROM mutation_log ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	want := map[string][4]string{"m1": {"acknowledged", "sup1", "2026-03-23T18:00:00.000Z", "left early"}, "m2": {}}
	for rows.Next() {
		var id string
		var got [4]string
		if err := rows.Scan(&id, &got[0], &got[1], &got[2], &got[3]); err != nil {
			t.Fatal(err)
		}
		if got != want[id] {
			t.Errorf("%s after 00039: %q, want %q", id, got, want[id])
		}
	}
}
