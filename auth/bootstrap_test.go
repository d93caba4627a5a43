package auth_test

import (
	"context"
	"testing"

	"prodays/auth"
	"prodays/internal/dbtest"
)

// An admin imported without a password cannot log in: the first start
// still creates `admin`, and a second start leaves it alone.
func TestEnsureAdminWhenNoAdminCanLogIn(t *testing.T) {
	ctx := context.Background()
	db := dbtest.Open(t)
	if _, err := db.Write.ExecContext(ctx, `INSERT INTO users (username, full_name, role, created_at, updated_at)
		VALUES ('b.tahiri', 'B. Tahiri', 'admin', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')`); err != nil {
		t.Fatal(err)
	}
	pw, err := auth.EnsureAdmin(ctx, db, "")
	if err != nil || pw == "" {
		t.Fatalf("first start with an imported password-less admin: password %q, err %v; want a new admin", pw, err)
	}
	var hash string
	if err := db.Read.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE username = 'admin' AND role = 'admin' AND disabled = 0`).Scan(&hash); err != nil {
		t.Fatalf("admin account: %v", err)
	}
	if !auth.CheckPassword(hash, pw) {
		t.Fatal("the admin's password does not verify")
	}
	if again, err := auth.EnsureAdmin(ctx, db, ""); err != nil || again != "" {
		t.Fatalf("second start: password %q, err %v; want none (an admin can log in)", again, err)
	}
}
