package engine

import (
	"context"
	"encoding/json"

	"prodays"
	"prodays/internal/derrors"
	"prodays/store"
)

// regionFilter returns the SQL condition and args limiting col to p's
// region (nothing for admins; supervisors only reach here).
func regionFilter(p *prodays.Principal, col string) (string, []any) {
	if p.Role == prodays.RoleAdmin {
		return "1", nil
	}
	return col + " = ?", []any{p.RegionCode}
}

func forbidden() error {
	return prodays.Errorf(prodays.EForbidden, "Outside your region.")
}

// listByStatus returns the rows of query (a SELECT from a table under
// alias, which has region_code, status and id columns) in p's region with
// status (default open), by id, at most 1,000, each filled by name.
func listByStatus[T any](ctx context.Context, e *Engine, p *prodays.Principal, status, alias, query string, scan func(store.Scanner) (T, error), name func(*namer, *T)) ([]T, error) {
	if status == "" {
		status = "open"
	}
	w, args := regionFilter(p, alias+".region_code")
	out, err := store.Query(ctx, e.DB.Read, scan, query+` WHERE `+w+` AND `+alias+`.status = ? ORDER BY `+alias+`.id LIMIT 1000`, append(args, status)...)
	return named(ctx, e, out, err, name)
}

// ListFlags returns the flags of p's region with status (default open),
// newest last, at most 1,000.
func (e *Engine) ListFlags(ctx context.Context, p *prodays.Principal, status string) (_ []Flag, err error) {
	defer derrors.Wrap(&err, "engine.ListFlags(%s)", status)
	return listByStatus(ctx, e, p, status, "f", `SELECT f.id, f.kind, COALESCE(f.mutation_id, ''), COALESCE(f.activity_id, ''), COALESCE(f.device_id, ''),
		COALESCE(f.region_code, ''), f.detail, f.status, f.created_at, COALESCE(m.payload, 'null')
		FROM flags f LEFT JOIN mutation_log m ON m.id = f.mutation_id`, scanFlag, nameFlag)
}

func scanFlag(s store.Scanner) (Flag, error) {
	var f Flag
	var detail, payload string
	err := s.Scan(&f.ID, &f.Kind, &f.MutationID, &f.ActivityID, &f.DeviceID, &f.RegionCode, &detail, &f.Status, &f.CreatedAt, &payload)
	f.Detail, f.Payload = json.RawMessage(detail), json.RawMessage(payload)
	return f, err
}

// ListConflicts returns the conflicts of p's region with status (default open).
func (e *Engine) ListConflicts(ctx context.Context, p *prodays.Principal, status string) (_ []Conflict, err error) {
	defer derrors.Wrap(&err, "engine.ListConflicts(%s)", status)
	return listByStatus(ctx, e, p, status, "c", `SELECT c.id, c.trainee_id, c.field, c.base_version, c.winner_mutation_id, c.winner_value, c.loser_mutation_id, c.loser_value,
		COALESCE(c.region_code, ''), c.status, c.created_at,
		COALESCE(mw.device_id, ''), COALESCE(mw.recorded_at, ''), COALESCE(ml.device_id, ''), COALESCE(ml.recorded_at, '')
		FROM conflicts c LEFT JOIN mutation_log mw ON mw.id = c.winner_mutation_id LEFT JOIN mutation_log ml ON ml.id = c.loser_mutation_id`,
		scanConflict, nameConflict)
}

func scanConflict(s store.Scanner) (Conflict, error) {
	var c Conflict
	err := s.Scan(&c.ID, &c.TraineeID, &c.Field, &c.BaseVersion, &c.WinnerMutationID, &c.WinnerValue, &c.LoserMutationID, &c.LoserValue,
		&c.RegionCode, &c.Status, &c.CreatedAt, &c.WinnerDeviceID, &c.WinnerRecordedAt, &c.LoserDeviceID, &c.LoserRecordedAt)
	return c, err
}

// ListQuarantine returns the rejected mutations pushed by the users of p's
// region (admins: all), newest first, at most 1,000: only those still to
// review, or all of them (resolved included) when all is true.
func (e *Engine) ListQuarantine(ctx context.Context, p *prodays.Principal, all bool) (_ []QuarantinedMutation, err error) {
	defer derrors.Wrap(&err, "engine.ListQuarantine")
	q := `SELECT m.id, m.device_id, m.username, m.seq, m.type, m.code, m.message, m.received_at, m.payload,
		COALESCE(m.review_decision, ''), COALESCE(m.review_decided_by, ''), COALESCE(m.review_decided_at, ''), COALESCE(m.review_reason, '') FROM mutation_log m`
	var args []any
	if p.Role != prodays.RoleAdmin {
		q += ` JOIN users u ON u.username = m.username LEFT JOIN establishments e ON e.code = u.establishment_code
			WHERE m.status = 'rejected' AND COALESCE(u.region_code, e.region_code) = ?`
		args = append(args, p.RegionCode)
	} else {
		q += ` WHERE m.status = 'rejected'`
	}
	if !all {
		q += ` AND m.review_decision IS NULL`
	}
	out, err := store.Query(ctx, e.DB.Read, scanQuarantined, q+` ORDER BY m.received_at DESC LIMIT 1000`, args...)
	return named(ctx, e, out, err, nameQuarantined)
}

func scanQuarantined(s store.Scanner) (QuarantinedMutation, error) {
	var m QuarantinedMutation
	var payload string
	err := s.Scan(&m.ID, &m.DeviceID, &m.Username, &m.Seq, &m.Type, &m.Code, &m.Message, &m.ReceivedAt, &payload,
		&m.Decision, &m.DecidedBy, &m.DecidedAt, &m.DecisionReason)
	m.Payload = json.RawMessage(payload)
	if !json.Valid(m.Payload) {
		m.Payload = json.RawMessage("null")
	}
	return m, err
}

// ListProposals returns the merge proposals of p's region with status
// (default open).
func (e *Engine) ListProposals(ctx context.Context, p *prodays.Principal, status string) (_ []MergeProposal, err error) {
	defer derrors.Wrap(&err, "engine.ListProposals(%s)", status)
	return listByStatus(ctx, e, p, status, "m", `SELECT m.id, m.walk_in_id, m.candidate_id, m.reason, COALESCE(m.region_code, ''), m.status, m.created_at,
		COALESCE(tw.last_name || ' ' || tw.first_name, ''), COALESCE(tc.last_name || ' ' || tc.first_name, '')
		FROM merge_proposals m LEFT JOIN trainees tw ON tw.id = m.walk_in_id LEFT JOIN trainees tc ON tc.id = m.candidate_id`,
		scanProposal, describeProposal)
}

func scanProposal(s store.Scanner) (MergeProposal, error) {
	var m MergeProposal
	err := s.Scan(&m.ID, &m.WalkInID, &m.CandidateID, &m.Reason, &m.RegionCode, &m.Status, &m.CreatedAt, &m.WalkInName, &m.CandidateName)
	return m, err
}

// ListDevices returns the devices of the users of p's region (admins: all),
// by username (Devices with the zero DeviceQuery).
func (e *Engine) ListDevices(ctx context.Context, p *prodays.Principal) ([]Device, error) {
	l, err := e.Devices(ctx, p, DeviceQuery{})
	if err != nil {
		return nil, err
	}
	return l.Devices, nil
}

// loadDevices reads the devices of the users of region ("" : all), by
// username, with their seq gaps.
func (e *Engine) loadDevices(ctx context.Context, region string) ([]Device, error) {
	q := `SELECT d.id, d.username, COALESCE(u.region_code, e.region_code, ''), u.role, d.last_seen_at, COALESCE(d.last_push_at, ''), d.app_version,
		d.clock_offset_ms, d.clock_skewed, d.outbox_size, d.max_seq, d.revoked_at IS NOT NULL,
		COALESCE(d.skew_acknowledged_at, ''), COALESCE(d.skew_acknowledged_by, '') FROM devices d JOIN users u ON u.username = d.username
		LEFT JOIN establishments e ON e.code = u.establishment_code`
	var args []any
	if region != "" {
		q += ` WHERE COALESCE(u.region_code, e.region_code) = ?`
		args = append(args, region)
	}
	out, err := store.Query(ctx, e.DB.Read, scanDevice, q+` ORDER BY d.username, d.id`, args...)
	if err != nil {
		return nil, err
	}
	for i := range out {
		gaps, err := deviceGaps(ctx, e.DB.Read, out[i].ID, out[i].MaxSeq)
		if err != nil {
			return nil, err
		}
		out[i].SeqGaps = gaps
	}
	return out, nil
}

func scanDevice(s store.Scanner) (Device, error) {
	var d Device
	err := s.Scan(&d.ID, &d.Username, &d.RegionCode, &d.Role, &d.LastSeenAt, &d.LastPushAt, &d.AppVersion, &d.ClockOffsetMS, &d.ClockSkewed,
		&d.OutboxSize, &d.MaxSeq, &d.Revoked, &d.SkewAcknowledgedAt, &d.SkewAcknowledgedBy)
	return d, err
}
