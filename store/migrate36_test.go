package store

import (
	"context"
	"database/sql"
	"testing"
)

// TestMigration36DeviceSecret: a device registered before 00036 keeps its
// row and has no secret (its next login binds it: auth.Service.Login).
func TestMigration36DeviceSecret(t *testing.T) {
	ctx := context.Background()
	w := migrateFrom(t, 35,
		`INSERT INTO users (username, role, created_at, updated_at) VALUES ('u1', 'admin', 'x', 'x')`,
		`INSERT INTO devices (id, username, first_seen_at, last_seen_at, max_seq) VALUES ('d1', 'u1', 'x', 'x', 7)`,
	)
	var user string
	var maxSeq int64
	var secret sql.NullString
	if err := w.QueryRowContext(ctx, `SELECT username, max_seq, secret_hash FROM devices WHERE id = 'd1'`).Scan(&user, &maxSeq, &secret); err != nil {
		t.Fatal(err)
	}
	if user != "u1" || maxSeq != 7 || secret.Valid {
		t.Errorf("device after 00036: %s %d %v, want u1 7 and no secret", user, maxSeq, secret)
	}
}
