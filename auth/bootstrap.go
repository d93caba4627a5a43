package auth

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"fmt"

	"prodays"
	"prodays/store"
)

// EnsureAdmin creates the account `admin` (role admin) when no admin can
// log in: none exists, or every admin is disabled or has no password yet
// (an admin imported with a users file before the first start). An
// existing `admin` account is given the role, the password and is enabled
// again. Its password is password when given (at least MinPasswordLength
// and at most MaxPasswordLength characters), else a random one. It
// returns the password it set ("" when an admin could already log in).
// There is never a fixed default password.
func EnsureAdmin(ctx context.Context, db *store.DB, password string) (string, error) {
	var n int
	if err := db.Write.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0 AND password_hash IS NOT NULL`).Scan(&n); err != nil {
		return "", fmt.Errorf("look for an admin: %w", err)
	}
	if n > 0 {
		return "", nil
	}
	if password == "" {
		b := make([]byte, 15)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		password = base64.RawURLEncoding.EncodeToString(b)
	} else if err := ValidatePassword(password); err != nil {
		return "", fmt.Errorf("PRODAYS_ADMIN_PASSWORD: %s", prodays.ErrorMessage(err))
	}
	hash, err := HashPassword(password)
	if err != nil {
		return "", err
	}
	now := store.FormatTime(db.Now())
	err = db.WithTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO users (username, full_name, role, password_hash, created_at, updated_at)
			VALUES ('admin', 'Administrator', 'admin', ?, ?, ?)
			ON CONFLICT (username) DO UPDATE SET role = 'admin', password_hash = excluded.password_hash, disabled = 0,
			establishment_code = NULL, region_code = NULL, scope_version = scope_version + 1, updated_at = excluded.updated_at`,
			hash, now, now); err != nil {
			return err
		}
		return store.Audit(ctx, tx, db.Now(), store.AuditEntry{Username: "system", Action: "user.bootstrap_admin", Target: "admin"})
	})
	if err != nil {
		return "", fmt.Errorf("create admin: %w", err)
	}
	return password, nil
}
