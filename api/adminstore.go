package api

// Private SQL helpers of the admin API for what store/users.go does not
// do yet (a user's scope_version, updating role, scope and name, devices,
// editions); each takes the transaction of its handler, so that the change
// and its audit entry commit together. Candidates to move into the store.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"prodays"
	"prodays/store"
)

// adminUser is a user as the admin API shows it: the account, its scope
// version (bumped on every change of role or scope) and its last change.
type adminUser struct {
	prodays.User
	ScopeVersion int64     `json:"scope_version"`
	UpdatedAt    time.Time `json:"updated_at"`
}

const userColumns = `username, full_name, role, establishment_code, region_code, password_hash IS NOT NULL AND password_hash <> '',
	disabled, scope_version, created_at, updated_at`

func scanUser(row interface{ Scan(...any) error }) (*adminUser, error) {
	var u adminUser
	var est, reg sql.NullString
	var created, updated string
	if err := row.Scan(&u.Username, &u.FullName, &u.Role, &est, &reg, &u.HasPassword, &u.Disabled, &u.ScopeVersion, &created, &updated); err != nil {
		return nil, err
	}
	u.EstablishmentCode, u.RegionCode = est.String, reg.String
	u.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
	u.UpdatedAt, _ = time.Parse(time.RFC3339Nano, updated)
	return &u, nil
}

// getUser returns the user, or ENotFound.
func getUser(ctx context.Context, q store.Execer, username string) (*adminUser, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE username = ?`, username))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, prodays.Errorf(prodays.ENotFound, "No user %q.", username)
	} else if err != nil {
		return nil, fmt.Errorf("get user %s: %w", username, err)
	}
	return u, nil
}

// updateUser writes u's name, scope and disabled flag, bumping
// scope_version when bump.
func updateUser(ctx context.Context, tx *sql.Tx, now time.Time, u *adminUser, bump bool) error {
	inc := 0
	if bump {
		inc = 1
	}
	_, err := tx.ExecContext(ctx, `UPDATE users SET full_name = ?, role = ?, establishment_code = NULLIF(?, ''), region_code = NULLIF(?, ''),
		disabled = ?, scope_version = scope_version + ?, updated_at = ? WHERE username = ?`,
		u.FullName, u.Role, u.EstablishmentCode, u.RegionCode, u.Disabled, inc, store.FormatTime(now), u.Username)
	if err != nil {
		return fmt.Errorf("update user %s: %w", u.Username, err)
	}
	return nil
}

// activeAdmins counts enabled admin accounts.
func activeAdmins(ctx context.Context, q store.Execer) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0`).Scan(&n)
	return n, err
}

// establishmentRegion returns the region of establishment code, or EInvalid
// naming field when it does not exist.
func establishmentRegion(ctx context.Context, q store.Execer, field, code string) (string, error) {
	var region string
	err := q.QueryRowContext(ctx, `SELECT region_code FROM establishments WHERE code = ?`, code).Scan(&region)
	if errors.Is(err, sql.ErrNoRows) {
		return "", prodays.Errorf(prodays.EInvalid, "%s: unknown establishment %q.", field, code)
	}
	return region, err
}

// regionExists returns EInvalid naming field when region is not one of
// the 12 regions.
func regionExists(ctx context.Context, q store.Execer, field, region string) error {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM regions WHERE code = ?`, region).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return prodays.Errorf(prodays.EInvalid, "%s: unknown region %q.", field, region)
	}
	return nil
}

// device is a device as the admin API shows it.
type device struct {
	ID            string     `json:"device_id"`
	Username      string     `json:"username"`
	FirstSeenAt   time.Time  `json:"first_seen_at"`
	LastSeenAt    time.Time  `json:"last_seen_at"`
	LastPushAt    *time.Time `json:"last_push_at,omitempty"`
	AppVersion    string     `json:"app_version"`
	ClockOffsetMS int64      `json:"clock_offset_ms"`
	ClockSkewed   bool       `json:"clock_skewed"`
	OutboxSize    int64      `json:"outbox_size"`
	UserAgent     string     `json:"user_agent"`
	LastAddress   string     `json:"last_address"`
	RevokedAt     *time.Time `json:"revoked_at,omitempty"`
	RevokedBy     string     `json:"revoked_by,omitempty"`
}

const deviceColumns = `id, username, first_seen_at, last_seen_at, last_push_at, app_version, clock_offset_ms, clock_skewed,
	outbox_size, user_agent, last_address, revoked_at, revoked_by`

func scanDevice(row interface{ Scan(...any) error }) (*device, error) {
	var d device
	var first, last string
	var push, revoked, by sql.NullString
	if err := row.Scan(&d.ID, &d.Username, &first, &last, &push, &d.AppVersion, &d.ClockOffsetMS, &d.ClockSkewed,
		&d.OutboxSize, &d.UserAgent, &d.LastAddress, &revoked, &by); err != nil {
		return nil, err
	}
	d.FirstSeenAt, _ = time.Parse(time.RFC3339Nano, first)
	d.LastSeenAt, _ = time.Parse(time.RFC3339Nano, last)
	d.LastPushAt, d.RevokedAt, d.RevokedBy = optTime(push), optTime(revoked), by.String
	return &d, nil
}

func optTime(s sql.NullString) *time.Time {
	if !s.Valid {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s.String)
	if err != nil {
		return nil
	}
	return &t
}

func listDevices(ctx context.Context, q store.Execer, username string) ([]*device, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+deviceColumns+` FROM devices WHERE username = ? ORDER BY last_seen_at DESC`, username)
	if err != nil {
		return nil, fmt.Errorf("list devices of %s: %w", username, err)
	}
	defer rows.Close()
	out := []*device{}
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// revokeDevice marks the device revoked by admin (once: a second revoke
// keeps the first time) and revokes its live refresh tokens. ENotFound
// when there is no such device.
func revokeDevice(ctx context.Context, tx *sql.Tx, now time.Time, id, admin string) (*device, int64, error) {
	ts := store.FormatTime(now)
	res, err := tx.ExecContext(ctx, `UPDATE devices SET revoked_at = coalesce(revoked_at, ?), revoked_by = coalesce(revoked_by, ?) WHERE id = ?`, ts, admin, id)
	if err != nil {
		return nil, 0, fmt.Errorf("revoke device %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, 0, prodays.Errorf(prodays.ENotFound, "No device %q.", id)
	}
	res, err = tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE device_id = ? AND revoked_at IS NULL`, ts, id)
	if err != nil {
		return nil, 0, fmt.Errorf("revoke sessions of device %s: %w", id, err)
	}
	n, _ := res.RowsAffected()
	d, err := scanDevice(tx.QueryRowContext(ctx, `SELECT `+deviceColumns+` FROM devices WHERE id = ?`, id))
	return d, n, err
}

func scanEdition(row interface{ Scan(...any) error }) (*prodays.Edition, error) {
	var e prodays.Edition
	err := row.Scan(&e.ID, &e.Name, &e.Theme, &e.StartDate, &e.EndDate)
	return &e, err
}

func listEditions(ctx context.Context, q store.Execer) ([]*prodays.Edition, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, name, theme, start_date, end_date FROM editions ORDER BY start_date DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list editions: %w", err)
	}
	defer rows.Close()
	out := []*prodays.Edition{}
	for rows.Next() {
		e, err := scanEdition(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func getEdition(ctx context.Context, q store.Execer, id int64) (*prodays.Edition, error) {
	e, err := scanEdition(q.QueryRowContext(ctx, `SELECT id, name, theme, start_date, end_date FROM editions WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, prodays.Errorf(prodays.ENotFound, "No edition %d.", id)
	} else if err != nil {
		return nil, fmt.Errorf("get edition %d: %w", id, err)
	}
	return e, nil
}

// editionNameTaken reports whether another edition (not id) has name.
func editionNameTaken(ctx context.Context, q store.Execer, name string, id int64) error {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM editions WHERE name = ? AND id <> ?`, name, id).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return prodays.Errorf(prodays.EConflict, "name: an edition is already called %q.", name)
	}
	return nil
}

func insertEdition(ctx context.Context, tx *sql.Tx, now time.Time, e *prodays.Edition) error {
	if err := editionNameTaken(ctx, tx, e.Name, 0); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO editions (name, theme, start_date, end_date, created_at) VALUES (?, ?, ?, ?, ?)`,
		e.Name, e.Theme, e.StartDate, e.EndDate, store.FormatTime(now))
	if err != nil {
		return fmt.Errorf("insert edition: %w", err)
	}
	e.ID, err = res.LastInsertId()
	return err
}

func updateEdition(ctx context.Context, tx *sql.Tx, e *prodays.Edition) error {
	if err := editionNameTaken(ctx, tx, e.Name, e.ID); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE editions SET name = ?, theme = ?, start_date = ?, end_date = ? WHERE id = ?`,
		e.Name, e.Theme, e.StartDate, e.EndDate, e.ID)
	if err != nil {
		return fmt.Errorf("update edition %d: %w", e.ID, err)
	}
	return nil
}
