package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"prodays"
)

// Device is prodays.Device.
type Device = prodays.Device

const deviceColumns = `id, username, first_seen_at, last_seen_at, last_push_at, app_version, clock_offset_ms, clock_skewed,
	outbox_size, user_agent, last_address, revoked_at, revoked_by`

// scanDevice reads a devices row selected with deviceColumns.
func scanDevice(row interface{ Scan(...any) error }) (*Device, error) {
	var d Device
	var first, last string
	var push, revoked, by sql.NullString
	if err := row.Scan(&d.ID, &d.Username, &first, &last, &push, &d.AppVersion, &d.ClockOffsetMS, &d.ClockSkewed,
		&d.OutboxSize, &d.UserAgent, &d.LastAddress, &revoked, &by); err != nil {
		return nil, err
	}
	if err := parseTimes([]string{first, last}, &d.FirstSeenAt, &d.LastSeenAt); err != nil {
		return nil, fmt.Errorf("device %s: %w", d.ID, err)
	}
	var err error
	if d.LastPushAt, err = optTime(push); err != nil {
		return nil, fmt.Errorf("device %s: last_push_at: %w", d.ID, err)
	}
	if d.RevokedAt, err = optTime(revoked); err != nil {
		return nil, fmt.Errorf("device %s: revoked_at: %w", d.ID, err)
	}
	d.RevokedBy = by.String
	return &d, nil
}

// parseTimes parses each stored time of src (RFC 3339, as FormatTime
// writes them) into the matching dst.
func parseTimes(src []string, dst ...*time.Time) error {
	for i, s := range src {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return err
		}
		*dst[i] = t
	}
	return nil
}

// optTime parses a nullable stored time; nil for NULL.
func optTime(s sql.NullString) (*time.Time, error) {
	if !s.Valid {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s.String)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// ListDevices returns the devices of username, most recently seen first.
// Errors: ENotFound for an unknown user.
func (db *DB) ListDevices(ctx context.Context, username string) ([]*Device, error) {
	if _, err := getAccount(ctx, db.Read, username); err != nil {
		return nil, err
	}
	rows, err := db.Read.QueryContext(ctx, `SELECT `+deviceColumns+` FROM devices WHERE username = ? ORDER BY last_seen_at DESC`, username)
	if err != nil {
		return nil, fmt.Errorf("list devices of %s: %w", username, err)
	}
	defer rows.Close()
	out := []*Device{}
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// RevokeDevice marks device id revoked by ctx's Actor (once: revoking
// again keeps the first time and admin) and revokes its live refresh
// tokens, so that its access tokens stop at the next request and it may
// not log in again. Audited as device.revoke with the owner and the number
// of refresh tokens revoked. Returns the device. Errors: ENotFound.
func (db *DB) RevokeDevice(ctx context.Context, id string) (*Device, error) {
	now := db.Now()
	ts := FormatTime(now)
	var d *Device
	err := db.WithTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE devices SET revoked_at = coalesce(revoked_at, ?), revoked_by = coalesce(revoked_by, ?) WHERE id = ?`,
			ts, ActorFrom(ctx).Username, id)
		if err := notFoundIfNone(res, err, "device", id); err != nil {
			return err
		}
		res, err = tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE device_id = ? AND revoked_at IS NULL`, ts, id)
		if err != nil {
			return fmt.Errorf("revoke sessions of device %s: %w", id, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("revoke sessions of device %s: %w", id, err)
		}
		if d, err = scanDevice(tx.QueryRowContext(ctx, `SELECT `+deviceColumns+` FROM devices WHERE id = ?`, id)); err != nil {
			return fmt.Errorf("revoke device %s: %w", id, err)
		}
		return Audit(ctx, tx, now, AuditEntry{Action: "device.revoke", Target: d.ID,
			Detail: map[string]any{"username": d.Username, "revoked_refresh_tokens": n}})
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}
