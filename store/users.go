package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"prodays"
)

// CreateUser adds the account u and returns it as stored. Username and
// Role are required; a staff user needs EstablishmentCode (its RegionCode
// is that establishment's region), a supervisor RegionCode, an admin
// neither (any given is an error). passwordHash is an encoded hash
// (auth.HashPassword), or "" for an account without a usable password.
// by is who creates it, for the audit log. Errors: EInvalid (role, scope,
// name), ENotFound (establishment or region), EConflict (username taken).
func (db *DB) CreateUser(ctx context.Context, u prodays.User, passwordHash, by string) (*prodays.User, error) {
	u.Username = strings.TrimSpace(u.Username)
	if u.Username == "" || strings.ContainsAny(u.Username, " \t\r\n") {
		return nil, prodays.Errorf(prodays.EInvalid, "Username %q: want a name without spaces.", u.Username)
	}
	now := db.Now()
	err := db.WithTx(ctx, func(tx *sql.Tx) error {
		if err := resolveScope(ctx, tx, &u); err != nil {
			return err
		}
		var exists int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE username = ?`, u.Username).Scan(&exists); err != nil {
			return fmt.Errorf("create user %s: %w", u.Username, err)
		}
		if exists > 0 {
			return prodays.Errorf(prodays.EConflict, "User %s already exists.", u.Username)
		}
		_, err := tx.ExecContext(ctx,
			`INSERT INTO users (username, full_name, role, establishment_code, region_code, password_hash, created_at, updated_at)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			u.Username, u.FullName, u.Role, nullable(u.EstablishmentCode), nullable(u.RegionCode), nullable(passwordHash),
			FormatTime(now), FormatTime(now))
		if err != nil {
			return fmt.Errorf("create user %s: %w", u.Username, err)
		}
		return Audit(ctx, tx, now, AuditEntry{Username: by, Action: "user.create", Target: u.Username,
			Detail: map[string]any{"role": u.Role, "establishment_code": u.EstablishmentCode, "region_code": u.RegionCode, "has_password": passwordHash != ""}})
	})
	if err != nil {
		return nil, err
	}
	return db.GetUser(ctx, u.Username)
}

// resolveScope checks u's role and scope and sets a staff user's region.
func resolveScope(ctx context.Context, tx *sql.Tx, u *prodays.User) error {
	switch u.Role {
	case prodays.RoleStaff:
		if u.EstablishmentCode == "" {
			return prodays.Errorf(prodays.EInvalid, "A staff user needs an establishment.")
		}
		err := tx.QueryRowContext(ctx, `SELECT region_code FROM establishments WHERE code = ?`, u.EstablishmentCode).Scan(&u.RegionCode)
		if errors.Is(err, sql.ErrNoRows) {
			return prodays.Errorf(prodays.ENotFound, "No establishment %s.", u.EstablishmentCode)
		} else if err != nil {
			return fmt.Errorf("establishment %s: %w", u.EstablishmentCode, err)
		}
	case prodays.RoleSupervisor:
		if u.RegionCode == "" || u.EstablishmentCode != "" {
			return prodays.Errorf(prodays.EInvalid, "A supervisor needs a region and no establishment.")
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM regions WHERE code = ?`, u.RegionCode).Scan(&n); err != nil {
			return fmt.Errorf("region %s: %w", u.RegionCode, err)
		}
		if n == 0 {
			return prodays.Errorf(prodays.ENotFound, "No region %s.", u.RegionCode)
		}
	case prodays.RoleAdmin:
		if u.EstablishmentCode != "" || u.RegionCode != "" {
			return prodays.Errorf(prodays.EInvalid, "An admin has neither establishment nor region.")
		}
	default:
		return prodays.Errorf(prodays.EInvalid, "Role %q: want staff, supervisor or admin.", u.Role)
	}
	return nil
}

// SetPassword replaces the password hash of username (an encoded hash from
// auth.HashPassword) and revokes the user's refresh tokens, so that every
// device logs in again with the new password. by is who does it. Errors:
// ENotFound.
func (db *DB) SetPassword(ctx context.Context, username, passwordHash, by string) error {
	if passwordHash == "" {
		return prodays.Errorf(prodays.EInvalid, "Empty password hash.")
	}
	now := db.Now()
	return db.WithTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, updated_at = ? WHERE username = ?`,
			passwordHash, FormatTime(now), username)
		if err := notFoundIfNone(res, err, username); err != nil {
			return err
		}
		res, err = tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE username = ? AND revoked_at IS NULL`,
			FormatTime(now), username)
		if err != nil {
			return fmt.Errorf("set password of %s: revoke sessions: %w", username, err)
		}
		revoked, _ := res.RowsAffected()
		return Audit(ctx, tx, now, AuditEntry{Username: by, Action: "user.password", Target: username,
			Detail: map[string]any{"revoked_refresh_tokens": revoked}})
	})
}

// DisableUser disables username and revokes its refresh tokens, so that
// it can neither log in nor refresh. Disabling a disabled user is a no-op
// (still audited). by is who does it. Errors: ENotFound.
func (db *DB) DisableUser(ctx context.Context, username, by string) error {
	now := db.Now()
	return db.WithTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET disabled = 1, updated_at = ? WHERE username = ?`, FormatTime(now), username)
		if err := notFoundIfNone(res, err, username); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE username = ? AND revoked_at IS NULL`,
			FormatTime(now), username); err != nil {
			return fmt.Errorf("disable user %s: %w", username, err)
		}
		return Audit(ctx, tx, now, AuditEntry{Username: by, Action: "user.disable", Target: username})
	})
}

// RevokeUserSessions revokes, in tx, every refresh token of username not
// yet revoked (spent ones included), which closes all its sessions: their
// access tokens stop at the next request (auth.Service.VerifyAccess).
// Returns how many were revoked.
func RevokeUserSessions(ctx context.Context, tx *sql.Tx, now time.Time, username string) (int64, error) {
	res, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE username = ? AND revoked_at IS NULL`, FormatTime(now), username)
	if err != nil {
		return 0, fmt.Errorf("revoke sessions of %s: %w", username, err)
	}
	return res.RowsAffected()
}

func notFoundIfNone(res sql.Result, err error, username string) error {
	if err != nil {
		return fmt.Errorf("user %s: %w", username, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("user %s: %w", username, err)
	} else if n == 0 {
		return prodays.Errorf(prodays.ENotFound, "No user %s.", username)
	}
	return nil
}

const userColumns = `username, full_name, role, COALESCE(establishment_code, ''), COALESCE(region_code, ''), disabled, password_hash IS NOT NULL, created_at`

func scanUser(sc interface{ Scan(...any) error }) (*prodays.User, error) {
	var u prodays.User
	var created string
	if err := sc.Scan(&u.Username, &u.FullName, &u.Role, &u.EstablishmentCode, &u.RegionCode, &u.Disabled, &u.HasPassword, &created); err != nil {
		return nil, err
	}
	u.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
	return &u, nil
}

// GetUser returns the account username, or an *prodays.Error with code
// ENotFound.
func (db *DB) GetUser(ctx context.Context, username string) (*prodays.User, error) {
	u, err := scanUser(db.Read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE username = ?`, username))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, prodays.Errorf(prodays.ENotFound, "No user %s.", username)
	} else if err != nil {
		return nil, fmt.Errorf("get user %s: %w", username, err)
	}
	return u, nil
}

// ListUsers returns every account, by username.
func (db *DB) ListUsers(ctx context.Context) ([]*prodays.User, error) {
	rows, err := db.Read.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []*prodays.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}
