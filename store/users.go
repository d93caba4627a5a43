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

// Account is prodays.Account.
type Account = prodays.Account

// CreateUser adds the account u and returns it as stored. The username
// follows prodays.CheckUsername, the full name prodays.TextName; the role
// and scope follow resolveScope (a staff user's RegionCode is its
// establishment's region). passwordHash is an encoded hash
// (auth.HashPassword), or "" for an account without a usable password.
// by is who creates it, for the audit log. The command line and the admin
// API both create users here, so they accept and refuse the same accounts.
// Errors: EInvalid naming the field (username, full_name, role,
// establishment_code, region_code), EConflict (username taken).
func (db *DB) CreateUser(ctx context.Context, u prodays.User, passwordHash, by string) (*prodays.User, error) {
	var err error
	if u.Username, err = prodays.CheckUsername("username", u.Username); err != nil {
		return nil, err
	}
	if u.FullName, err = prodays.CheckText("full_name", u.FullName, prodays.TextName); err != nil {
		return nil, err
	}
	u.EstablishmentCode, u.RegionCode = strings.TrimSpace(u.EstablishmentCode), strings.TrimSpace(u.RegionCode)
	now := db.Now()
	err = db.WithTx(ctx, func(tx *sql.Tx) error {
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

// resolveScope checks u's role and scope and completes them: staff need
// an establishment (RegionCode is the establishment's; another given
// region is an error), supervisors a known region and no establishment,
// admins neither. Errors: EInvalid naming the field (role,
// establishment_code, region_code).
func resolveScope(ctx context.Context, q Execer, u *prodays.User) error {
	switch u.Role {
	case prodays.RoleStaff:
		if u.EstablishmentCode == "" {
			return prodays.Errorf(prodays.EInvalid, "establishment_code: A staff user needs an establishment.")
		}
		var region string
		err := q.QueryRowContext(ctx, `SELECT region_code FROM establishments WHERE code = ?`, u.EstablishmentCode).Scan(&region)
		if errors.Is(err, sql.ErrNoRows) {
			return prodays.Errorf(prodays.EInvalid, "establishment_code: unknown establishment %q.", u.EstablishmentCode)
		} else if err != nil {
			return fmt.Errorf("establishment %s: %w", u.EstablishmentCode, err)
		}
		if u.RegionCode != "" && u.RegionCode != region {
			return prodays.Errorf(prodays.EInvalid, "region_code: establishment %s is in region %s, not %s.", u.EstablishmentCode, region, u.RegionCode)
		}
		u.RegionCode = region
	case prodays.RoleSupervisor:
		if u.EstablishmentCode != "" {
			return prodays.Errorf(prodays.EInvalid, "establishment_code: only staff have one.")
		}
		if u.RegionCode == "" {
			return prodays.Errorf(prodays.EInvalid, "region_code: required for a supervisor.")
		}
		var n int
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM regions WHERE code = ?`, u.RegionCode).Scan(&n); err != nil {
			return fmt.Errorf("region %s: %w", u.RegionCode, err)
		}
		if n == 0 {
			return prodays.Errorf(prodays.EInvalid, "region_code: unknown region %q.", u.RegionCode)
		}
	case prodays.RoleAdmin:
		if u.EstablishmentCode != "" || u.RegionCode != "" {
			return prodays.Errorf(prodays.EInvalid, "establishment_code: an admin has no establishment or region.")
		}
	default:
		return prodays.Errorf(prodays.EInvalid, "role: one of staff, supervisor, admin.")
	}
	return nil
}

// UserChange is prodays.UserChange.
type UserChange = prodays.UserChange

// UpdateUser applies ch to username and returns the account. The rules
// are CreateUser's (full name, role and scope). A change of role or scope
// bumps scope_version; disabling revokes every refresh token of the user
// (enabling again does not revive them). The last enabled admin cannot be
// disabled or demoted. A change is audited as user.update (by ctx's
// Actor) with each field's from and to; a change that changes nothing is
// neither written nor audited. Errors: ENotFound, EInvalid naming the
// field, EConflict (last admin).
func (db *DB) UpdateUser(ctx context.Context, username string, ch UserChange) (*Account, error) {
	now := db.Now()
	var out *Account
	err := db.WithTx(ctx, func(tx *sql.Tx) error {
		a, err := getAccount(ctx, tx, username)
		if err != nil {
			return err
		}
		old, u := a.User, a.User
		if ch.FullName != nil {
			if u.FullName, err = prodays.CheckText("full_name", *ch.FullName, prodays.TextName); err != nil {
				return err
			}
		}
		if ch.Role != nil {
			if err := CheckRole("role", *ch.Role); err != nil {
				return err
			}
			u.Role = *ch.Role
			if u.Role != old.Role {
				if u.Role != prodays.RoleStaff && ch.EstablishmentCode == nil {
					u.EstablishmentCode = ""
				}
				if u.Role == prodays.RoleAdmin && ch.RegionCode == nil {
					u.RegionCode = ""
				}
			}
		}
		if ch.EstablishmentCode != nil {
			u.EstablishmentCode = strings.TrimSpace(*ch.EstablishmentCode)
		}
		if ch.RegionCode != nil {
			u.RegionCode = strings.TrimSpace(*ch.RegionCode)
		} else if u.Role == prodays.RoleStaff {
			u.RegionCode = "" // the establishment's region
		}
		if err := resolveScope(ctx, tx, &u); err != nil {
			return err
		}
		if ch.Disabled != nil {
			u.Disabled = *ch.Disabled
		}
		changes := map[string]any{}
		for field, pair := range map[string][2]any{
			"full_name": {old.FullName, u.FullName}, "role": {old.Role, u.Role},
			"establishment_code": {old.EstablishmentCode, u.EstablishmentCode},
			"region_code":        {old.RegionCode, u.RegionCode}, "disabled": {old.Disabled, u.Disabled},
		} {
			if pair[0] != pair[1] {
				changes[field] = map[string]any{"from": pair[0], "to": pair[1]}
			}
		}
		if len(changes) == 0 {
			out = a
			return nil
		}
		if err := checkNotLastAdmin(ctx, tx, old, u); err != nil {
			return err
		}
		bump := 0
		if u.Role != old.Role || u.EstablishmentCode != old.EstablishmentCode || u.RegionCode != old.RegionCode {
			bump = 1
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET full_name = ?, role = ?, establishment_code = NULLIF(?, ''), region_code = NULLIF(?, ''),
			disabled = ?, scope_version = scope_version + ?, updated_at = ? WHERE username = ?`,
			u.FullName, u.Role, u.EstablishmentCode, u.RegionCode, u.Disabled, bump, FormatTime(now), u.Username); err != nil {
			return fmt.Errorf("update user %s: %w", u.Username, err)
		}
		detail := map[string]any{"changes": changes}
		if u.Disabled && !old.Disabled {
			n, err := RevokeUserSessions(ctx, tx, now, u.Username)
			if err != nil {
				return err
			}
			detail["revoked_refresh_tokens"] = n
		}
		if out, err = getAccount(ctx, tx, u.Username); err != nil {
			return err
		}
		detail["scope_version"] = out.ScopeVersion
		return Audit(ctx, tx, now, AuditEntry{Action: "user.update", Target: u.Username, Detail: detail})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// checkNotLastAdmin returns EConflict when old is an enabled admin that u
// demotes or disables and no other enabled admin is left.
func checkNotLastAdmin(ctx context.Context, q Execer, old, u prodays.User) error {
	if old.Role != prodays.RoleAdmin || old.Disabled || (u.Role == prodays.RoleAdmin && !u.Disabled) {
		return nil
	}
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0`).Scan(&n); err != nil {
		return fmt.Errorf("count admins: %w", err)
	}
	if n <= 1 {
		return prodays.Errorf(prodays.EConflict, "role: %s is the last enabled admin; make another admin first.", u.Username)
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
		if err := notFoundIfNone(res, err, "user", username); err != nil {
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
		if err := notFoundIfNone(res, err, "user", username); err != nil {
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

// notFoundIfNone returns the error of an UPDATE of the kind (user,
// device) named id, or ENotFound when it changed no row.
func notFoundIfNone(res sql.Result, err error, kind, id string) error {
	if err != nil {
		return fmt.Errorf("%s %s: %w", kind, id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("%s %s: %w", kind, id, err)
	} else if n == 0 {
		return prodays.Errorf(prodays.ENotFound, "No %s %s.", kind, id)
	}
	return nil
}

const userColumns = `username, full_name, role, COALESCE(establishment_code, ''), COALESCE(region_code, ''), disabled,
	password_hash IS NOT NULL AND password_hash <> '', scope_version, created_at, updated_at`

// scanUser reads a users row selected with userColumns.
func scanUser(sc interface{ Scan(...any) error }) (*Account, error) {
	var a Account
	var created, updated string
	if err := sc.Scan(&a.Username, &a.FullName, &a.Role, &a.EstablishmentCode, &a.RegionCode, &a.Disabled, &a.HasPassword,
		&a.ScopeVersion, &created, &updated); err != nil {
		return nil, err
	}
	if err := parseTimes([]string{created, updated}, &a.CreatedAt, &a.UpdatedAt); err != nil {
		return nil, fmt.Errorf("user %s: %w", a.Username, err)
	}
	return &a, nil
}

// getAccount returns the account username read through q, or ENotFound.
func getAccount(ctx context.Context, q Execer, username string) (*Account, error) {
	a, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE username = ?`, username))
	return oneRow(a, err, prodays.Errorf(prodays.ENotFound, "No user %s.", username), "get user "+username)
}

// GetAccount returns the account username with its scope version.
// Errors: ENotFound.
func (db *DB) GetAccount(ctx context.Context, username string) (*Account, error) {
	return getAccount(ctx, db.Read, username)
}

// GetUser returns the account username, or an *prodays.Error with code
// ENotFound.
func (db *DB) GetUser(ctx context.Context, username string) (*prodays.User, error) {
	a, err := getAccount(ctx, db.Read, username)
	if err != nil {
		return nil, err
	}
	return &a.User, nil
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
		a, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, &a.User)
	}
	return out, rows.Err()
}

// CheckRole returns EInvalid naming field unless role is staff,
// supervisor or admin (prodays.CheckRole).
func CheckRole(field, role string) error { return prodays.CheckRole(field, role) }
