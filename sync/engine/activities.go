package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"prodays"
	"prodays/report"
)

// ActivitiesOfDay returns the activities of date (YYYY-MM-DD) that p may
// see (prodays.Scope.SeesActivity: admins all, supervisors those that
// take place in their region), by start time. Errors: EInvalid for a date
// that is not YYYY-MM-DD.
func (e *Engine) ActivitiesOfDay(ctx context.Context, p *prodays.Principal, date string) ([]ActivityOfDay, error) {
	named, err := e.activitiesOfDay(ctx, p, date)
	if err != nil {
		return nil, err
	}
	out := make([]ActivityOfDay, len(named))
	for i := range named {
		out[i] = named[i].ActivityOfDay
	}
	return out, nil
}

// activitiesOfDay is ActivitiesOfDay with each activity's names
// (NamedActivitiesOfDay), read in the same query.
func (e *Engine) activitiesOfDay(ctx context.Context, p *prodays.Principal, date string) ([]NamedActivity, error) {
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return nil, prodays.Errorf(prodays.EInvalid, "date must be YYYY-MM-DD.")
	}
	scope, args := report.ActivityScope(p.Scope)
	rows, err := e.DB.Read.QueryContext(ctx, `SELECT a.id, a.kind, a.title, a.date, a.start_time, a.end_time, a.establishment_code, a.region_code, a.capacity, a.status,
		COALESCE(a.closed_at, ''), COALESCE(a.closed_by, ''), COALESCE(a.close_reason, ''),
		(SELECT count(*) FROM attendance t WHERE t.activity_id = a.id AND t.present = 1 AND t.person_kind = 'trainee'),
		(SELECT count(*) FROM flags f WHERE f.activity_id = a.id AND f.status = 'open'),
		`+pendingMerges("a.id")+`,
		COALESCE(es.name, ''), COALESCE(a.company_id, ''), COALESCE(c.name, '')
		FROM activities a LEFT JOIN establishments es ON es.code = a.establishment_code LEFT JOIN companies c ON c.id = a.company_id
		WHERE a.date = ? AND `+scope+` ORDER BY a.start_time, a.id`, append([]any{date}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("list activities of %s: %w", date, err)
	}
	defer rows.Close()
	out := []NamedActivity{}
	for rows.Next() {
		var a NamedActivity
		if err := rows.Scan(&a.ID, &a.Kind, &a.Title, &a.Date, &a.StartTime, &a.EndTime, &a.EstablishmentCode, &a.RegionCode, &a.Capacity, &a.Status,
			&a.ClosedAt, &a.ClosedBy, &a.CloseReason, &a.Present, &a.OpenFlags, &a.PendingMerges,
			&a.EstablishmentName, &a.CompanyID, &a.CompanyName); err != nil {
			return nil, fmt.Errorf("list activities of %s: %w", date, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// DeviceOwner returns the principal on whose behalf a file saved from
// device deviceID (an outbox upload) is applied: the account the device
// logged in with, its current role and scope (a staff user's region is
// its establishment's), and deviceID. Errors: ENotFound for a device the
// server never saw.
func (e *Engine) DeviceOwner(ctx context.Context, deviceID string) (*prodays.Principal, error) {
	p := &prodays.Principal{DeviceID: deviceID}
	err := e.DB.Read.QueryRowContext(ctx, `SELECT u.username, u.role, COALESCE(u.establishment_code, ''), COALESCE(u.region_code, e.region_code, '')
		FROM devices d JOIN users u ON u.username = d.username LEFT JOIN establishments e ON e.code = u.establishment_code
		WHERE d.id = ?`, deviceID).Scan(&p.Username, &p.Role, &p.EstablishmentCode, &p.RegionCode)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, prodays.Errorf(prodays.ENotFound, "No device %q: the phone must have logged in once.", deviceID)
	} else if err != nil {
		return nil, fmt.Errorf("owner of device %s: %w", deviceID, err)
	}
	return p, nil
}
