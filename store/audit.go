package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"prodays"
	"prodays/internal/derrors"
)

// Actor is prodays.Actor.
type Actor = prodays.Actor

// Audit appends e to the audit log inside tx (so that the entry commits or
// rolls back with what it describes). A zero At is set to now; empty
// Username, DeviceID and Address are taken from ctx's Actor.
func Audit(ctx context.Context, tx Execer, now time.Time, e AuditEntry) error {
	if e.At.IsZero() {
		e.At = now
	}
	a := ActorFrom(ctx)
	if e.Username == "" {
		e.Username = a.Username
	}
	if e.DeviceID == "" {
		e.DeviceID = a.DeviceID
	}
	if e.Address == "" {
		e.Address = a.Address
	}
	detail := "{}"
	if len(e.Detail) > 0 {
		b, err := json.Marshal(e.Detail)
		if err != nil {
			return fmt.Errorf("audit detail: %w", err)
		}
		detail = string(b)
	}
	_, err := tx.ExecContext(ctx,
		`INSERT INTO audit_log (at, username, device_id, address, action, target, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		FormatTime(e.At), e.Username, e.DeviceID, e.Address, e.Action, e.Target, detail)
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// AddAudit appends e to the audit log on its own, for an action that
// changes nothing in the database (an export, an upload applied through
// the engine): Audit through the writer, at db.Now() when e.At is zero.
func (db *DB) AddAudit(ctx context.Context, e AuditEntry) error {
	return Audit(ctx, db.Write, db.Now(), e)
}

// AuditFilter is prodays.AuditFilter.
type AuditFilter = prodays.AuditFilter

// ListAudit returns the newest entries first.
func (db *DB) ListAudit(ctx context.Context, f AuditFilter) (_ []AuditEntry, err error) {
	defer derrors.Wrap(&err, "store.ListAudit")
	var where []string
	var args []any
	if f.Username != "" {
		where = append(where, "username = ?")
		args = append(args, f.Username)
	}
	if f.Action != "" {
		if strings.HasSuffix(f.Action, ".") {
			where = append(where, "action >= ? AND action < ?")
			args = append(args, f.Action, f.Action[:len(f.Action)-1]+"/")
		} else {
			where = append(where, "action = ?")
			args = append(args, f.Action)
		}
	}
	if !f.From.IsZero() {
		where = append(where, "at >= ?")
		args = append(args, FormatTime(f.From))
	}
	if !f.To.IsZero() {
		where = append(where, "at < ?")
		args = append(args, FormatTime(f.To))
	}
	if f.BeforeID > 0 {
		where = append(where, "id < ?")
		args = append(args, f.BeforeID)
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	q := "SELECT id, at, username, device_id, address, action, target, detail FROM audit_log"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, f.Limit)
	out, err := Query(ctx, db.Read, scanAuditEntry, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	return out, nil
}

// scanAuditEntry reads one audit_log row of ListAudit's columns.
func scanAuditEntry(r Scanner) (AuditEntry, error) {
	var e AuditEntry
	var at, detail string
	if err := r.Scan(&e.ID, &at, &e.Username, &e.DeviceID, &e.Address, &e.Action, &e.Target, &detail); err != nil {
		return e, err
	}
	var err error
	if e.At, err = ParseTime(at); err != nil {
		return e, fmt.Errorf("audit entry %d: %w", e.ID, err)
	}
	if err := json.Unmarshal([]byte(detail), &e.Detail); err != nil {
		return e, fmt.Errorf("audit entry %d: detail: %w", e.ID, err)
	}
	return e, nil
}

// WithActor returns ctx carrying a (prodays.WithActor).
func WithActor(ctx context.Context, a Actor) context.Context { return prodays.WithActor(ctx, a) }

// ActorFrom returns the Actor in ctx, zero when none (prodays.ActorFrom).
func ActorFrom(ctx context.Context) Actor { return prodays.ActorFrom(ctx) }
