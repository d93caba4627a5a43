package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"prodays"
	"prodays/store"
	"prodays/sync/protocol"
)

// Review error codes, from the registry (prodays.Codes).
const (
	// EReviewPending is prodays.EReviewPending: open flags block a close.
	EReviewPending = prodays.EReviewPending
	// EAlreadyDecided is prodays.EAlreadyDecided.
	EAlreadyDecided = prodays.EAlreadyDecided
)

// Flag is an open (or decided) flag as the review console shows it.
type Flag struct {
	ID         int64           `json:"id"`
	Kind       string          `json:"kind"`
	MutationID string          `json:"mutation_id,omitempty"`
	ActivityID string          `json:"activity_id,omitempty"`
	DeviceID   string          `json:"device_id,omitempty"`
	RegionCode string          `json:"region_code,omitempty"`
	Detail     json.RawMessage `json:"detail"`
	Status     string          `json:"status"`
	CreatedAt  string          `json:"created_at"`
	Payload    json.RawMessage `json:"payload,omitempty"`
}

// Conflict is a recorded conflict of a trainee field.
type Conflict struct {
	ID               int64  `json:"id"`
	TraineeID        string `json:"trainee_id"`
	Field            string `json:"field"`
	BaseVersion      int64  `json:"base_version"`
	WinnerMutationID string `json:"winner_mutation_id"`
	WinnerValue      string `json:"winner_value"`
	LoserMutationID  string `json:"loser_mutation_id"`
	LoserValue       string `json:"loser_value"`
	RegionCode       string `json:"region_code,omitempty"`
	Status           string `json:"status"`
	CreatedAt        string `json:"created_at"`
	// What each phone said and when: the device and the phone's clock of
	// the winning and the losing write.
	WinnerDeviceID   string `json:"winner_device_id,omitempty"`
	WinnerRecordedAt string `json:"winner_recorded_at,omitempty"`
	LoserDeviceID    string `json:"loser_device_id,omitempty"`
	LoserRecordedAt  string `json:"loser_recorded_at,omitempty"`
}

// QuarantinedMutation is a rejected mutation with its payload and reason.
type QuarantinedMutation struct {
	ID         string          `json:"id"`
	DeviceID   string          `json:"device_id"`
	Username   string          `json:"username"`
	Seq        int64           `json:"seq"`
	Type       string          `json:"type"`
	Code       string          `json:"code"`
	Message    string          `json:"message"`
	ReceivedAt string          `json:"received_at"`
	Payload    json.RawMessage `json:"payload"`
	// Decision is empty while the mutation waits for review, else
	// "acknowledged" or "counted_present" (ResolveQuarantined), with who,
	// when and why.
	Decision       string `json:"decision,omitempty"`
	DecidedBy      string `json:"decided_by,omitempty"`
	DecidedAt      string `json:"decided_at,omitempty"`
	DecisionReason string `json:"decision_reason,omitempty"`
}

// MergeProposal proposes merging walk-in WalkInID into CandidateID.
type MergeProposal struct {
	ID          int64  `json:"id"`
	WalkInID    string `json:"walk_in_id"`
	CandidateID string `json:"candidate_id"`
	Reason      string `json:"reason"`
	RegionCode  string `json:"region_code,omitempty"`
	Status      string `json:"status"`
	CreatedAt   string `json:"created_at"`
	// WalkInName and CandidateName are "last first" of both trainees.
	WalkInName    string `json:"walk_in_name,omitempty"`
	CandidateName string `json:"candidate_name,omitempty"`
}

// Device is a phone as the supervisors' console shows it: user, last sync,
// outbox size, app version, clock offset and skew mark, the highest seq
// received and the gaps below it (mutations lost on the phone).
type Device struct {
	ID            string     `json:"device_id"`
	Username      string     `json:"username"`
	LastSeenAt    string     `json:"last_seen_at"`
	LastPushAt    string     `json:"last_push_at,omitempty"`
	AppVersion    string     `json:"app_version"`
	ClockOffsetMS int64      `json:"clock_offset_ms"`
	ClockSkewed   bool       `json:"clock_skewed"`
	OutboxSize    int64      `json:"outbox_size"`
	MaxSeq        int64      `json:"max_seq"`
	SeqGaps       [][2]int64 `json:"seq_gaps"`
	Revoked       bool       `json:"revoked"`
	// SkewAcknowledgedAt/By: a supervisor acknowledged the skew mark
	// (AcknowledgeSkew); the device leaves the review queue.
	SkewAcknowledgedAt string `json:"skew_acknowledged_at,omitempty"`
	SkewAcknowledgedBy string `json:"skew_acknowledged_by,omitempty"`
}

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

// ListFlags returns the flags of p's region with status (default open),
// newest last, at most 1,000.
func (e *Engine) ListFlags(ctx context.Context, p *prodays.Principal, status string) ([]Flag, error) {
	if status == "" {
		status = "open"
	}
	w, args := regionFilter(p, "f.region_code")
	rows, err := e.DB.Read.QueryContext(ctx, `SELECT f.id, f.kind, COALESCE(f.mutation_id, ''), COALESCE(f.activity_id, ''), COALESCE(f.device_id, ''),
		COALESCE(f.region_code, ''), f.detail, f.status, f.created_at, COALESCE(m.payload, 'null')
		FROM flags f LEFT JOIN mutation_log m ON m.id = f.mutation_id WHERE `+w+` AND f.status = ? ORDER BY f.id LIMIT 1000`, append(args, status)...)
	if err != nil {
		return nil, fmt.Errorf("list flags: %w", err)
	}
	defer rows.Close()
	out := []Flag{}
	for rows.Next() {
		var f Flag
		var detail, payload string
		if err := rows.Scan(&f.ID, &f.Kind, &f.MutationID, &f.ActivityID, &f.DeviceID, &f.RegionCode, &detail, &f.Status, &f.CreatedAt, &payload); err != nil {
			return nil, err
		}
		f.Detail, f.Payload = json.RawMessage(detail), json.RawMessage(payload)
		out = append(out, f)
	}
	return out, rows.Err()
}

// ListConflicts returns the conflicts of p's region with status (default open).
func (e *Engine) ListConflicts(ctx context.Context, p *prodays.Principal, status string) ([]Conflict, error) {
	if status == "" {
		status = "open"
	}
	w, args := regionFilter(p, "region_code")
	rows, err := e.DB.Read.QueryContext(ctx, `SELECT c.id, c.trainee_id, c.field, c.base_version, c.winner_mutation_id, c.winner_value, c.loser_mutation_id, c.loser_value,
		COALESCE(c.region_code, ''), c.status, c.created_at,
		COALESCE(mw.device_id, ''), COALESCE(mw.recorded_at, ''), COALESCE(ml.device_id, ''), COALESCE(ml.recorded_at, '')
		FROM conflicts c LEFT JOIN mutation_log mw ON mw.id = c.winner_mutation_id LEFT JOIN mutation_log ml ON ml.id = c.loser_mutation_id
		WHERE `+strings.Replace(w, "region_code", "c.region_code", 1)+` AND c.status = ? ORDER BY c.id LIMIT 1000`, append(args, status)...)
	if err != nil {
		return nil, fmt.Errorf("list conflicts: %w", err)
	}
	defer rows.Close()
	out := []Conflict{}
	for rows.Next() {
		var c Conflict
		if err := rows.Scan(&c.ID, &c.TraineeID, &c.Field, &c.BaseVersion, &c.WinnerMutationID, &c.WinnerValue, &c.LoserMutationID, &c.LoserValue,
			&c.RegionCode, &c.Status, &c.CreatedAt, &c.WinnerDeviceID, &c.WinnerRecordedAt, &c.LoserDeviceID, &c.LoserRecordedAt); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ListQuarantine returns the rejected mutations pushed by the users of p's
// region (admins: all), newest first, at most 1,000: only those still to
// review, or all of them (resolved included) when all is true.
func (e *Engine) ListQuarantine(ctx context.Context, p *prodays.Principal, all bool) ([]QuarantinedMutation, error) {
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
	rows, err := e.DB.Read.QueryContext(ctx, q+` ORDER BY m.received_at DESC LIMIT 1000`, args...)
	if err != nil {
		return nil, fmt.Errorf("list quarantine: %w", err)
	}
	defer rows.Close()
	out := []QuarantinedMutation{}
	for rows.Next() {
		var m QuarantinedMutation
		var payload string
		if err := rows.Scan(&m.ID, &m.DeviceID, &m.Username, &m.Seq, &m.Type, &m.Code, &m.Message, &m.ReceivedAt, &payload,
			&m.Decision, &m.DecidedBy, &m.DecidedAt, &m.DecisionReason); err != nil {
			return nil, err
		}
		m.Payload = json.RawMessage(payload)
		if !json.Valid(m.Payload) {
			m.Payload = json.RawMessage("null")
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Quarantine decisions (ResolveQuarantined).
const (
	// QuarantineAcknowledge marks a refused mutation reviewed; nothing else
	// changes.
	QuarantineAcknowledge = "acknowledge"
	// QuarantineCountPresent counts the refused check-in's person present
	// at its activity (a supervisor override) and marks it reviewed.
	QuarantineCountPresent = "count_present"
)

// userRegion returns the region of username (theirs, or their
// establishment's); "" when unknown.
func (t *txc) userRegion(username string) (string, error) {
	var region string
	err := t.QueryRowContext(t.ctx, `SELECT COALESCE(u.region_code, e.region_code, '') FROM users u
		LEFT JOIN establishments e ON e.code = u.establishment_code WHERE u.username = ?`, username).Scan(&region)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return region, err
}

// ResolveQuarantined decides on quarantined (rejected) mutation id:
// acknowledge marks it reviewed; count_present applies a supervisor
// presence override (present, with reason) for the check-in's (activity,
// person), through the same path as Override, and marks it reviewed. The
// mutation stays rejected in the quarantine either way, with the decision,
// who, when and the reason; the decision is audited. A supervisor of the
// activity's region (or, to acknowledge, of the pushing user's region) or
// an admin. Errors: not_found (no such rejected mutation), forbidden,
// invalid (unknown action; count_present of something that is not a
// check-in, or without a reason), already_decided.
func (e *Engine) ResolveQuarantined(ctx context.Context, p *prodays.Principal, id, action, reason string) error {
	if action != QuarantineAcknowledge && action != QuarantineCountPresent {
		return prodays.Errorf(prodays.EInvalid, "action must be acknowledge or count_present.")
	}
	if action == QuarantineCountPresent && strings.TrimSpace(reason) == "" {
		return prodays.Errorf(prodays.EInvalid, "A reason is required to count a refused check-in present.")
	}
	return e.withTx(ctx, func(t *txc) error {
		var username, typ, payload string
		var decision sql.NullString
		err := t.QueryRowContext(ctx, `SELECT username, type, payload, review_decision FROM mutation_log WHERE id = ? AND status = 'rejected'`, id).
			Scan(&username, &typ, &payload, &decision)
		if errors.Is(err, sql.ErrNoRows) {
			return prodays.Errorf(prodays.ENotFound, "No quarantined mutation %q.", id)
		} else if err != nil {
			return err
		}
		var m struct {
			ActivityID string          `json:"activity_id"`
			Person     protocol.Person `json:"person"`
		}
		_ = json.Unmarshal([]byte(payload), &m)
		act, err := t.activity(m.ActivityID)
		if err != nil {
			return err
		}
		userRegion, err := t.userRegion(username)
		if err != nil {
			return err
		}
		allowed := supervisorOf(p, userRegion) == nil
		if act != nil {
			ofActivity := supervisorOf(p, act.Region) == nil
			if action == QuarantineCountPresent {
				allowed = ofActivity
			} else {
				allowed = allowed || ofActivity
			}
		}
		if !allowed {
			return forbidden()
		}
		if decision.Valid {
			return prodays.Errorf(EAlreadyDecided, "Mutation %s is already resolved (%s).", id, decision.String)
		}
		done := "acknowledged"
		if action == QuarantineCountPresent {
			if typ != protocol.TypeCheckIn || act == nil || m.Person.ID == "" ||
				m.Person.Kind != prodays.PersonTrainee && m.Person.Kind != prodays.PersonSpeaker {
				return prodays.Errorf(prodays.EInvalid, "Only a refused check-in of a known activity can be counted present.")
			}
			if err := t.override(p, act, m.Person, true, reason); err != nil {
				return err
			}
			done = "counted_present"
		}
		if _, err := t.exec(`UPDATE mutation_log SET review_decision = ?, review_decided_by = ?, review_decided_at = ?, review_reason = ? WHERE id = ?`,
			done, p.Username, store.FormatTime(t.now), reason, id); err != nil {
			return err
		}
		return t.audit(p, "review.quarantine_"+done, "mutation:"+id, map[string]any{"type": typ, "activity_id": m.ActivityID, "reason": reason})
	})
}

// AcknowledgeSkew takes device id's clock-skew mark out of the review
// queue (the offset and the mark stay in ListDevices), audited. A
// supervisor of the device owner's region or an admin. Errors: not_found,
// forbidden, already_decided (acknowledged already, or no skew mark).
func (e *Engine) AcknowledgeSkew(ctx context.Context, p *prodays.Principal, id, reason string) error {
	return e.withTx(ctx, func(t *txc) error {
		var username string
		var skewed bool
		var offset int64
		var acked sql.NullString
		err := t.QueryRowContext(ctx, `SELECT username, clock_skewed, clock_offset_ms, skew_acknowledged_at FROM devices WHERE id = ?`, id).
			Scan(&username, &skewed, &offset, &acked)
		if errors.Is(err, sql.ErrNoRows) {
			return prodays.Errorf(prodays.ENotFound, "No device %q.", id)
		} else if err != nil {
			return err
		}
		region, err := t.userRegion(username)
		if err != nil {
			return err
		}
		if err := supervisorOf(p, region); err != nil {
			return err
		}
		if !skewed {
			return prodays.Errorf(EAlreadyDecided, "Device %s has no clock-skew mark.", id)
		}
		if acked.Valid {
			return prodays.Errorf(EAlreadyDecided, "The clock skew of device %s was acknowledged at %s.", id, acked.String)
		}
		if _, err := t.exec(`UPDATE devices SET skew_acknowledged_at = ?, skew_acknowledged_by = ?, skew_reason = ? WHERE id = ?`,
			store.FormatTime(t.now), p.Username, reason, id); err != nil {
			return err
		}
		return t.audit(p, "review.skew_acknowledged", "device:"+id, map[string]any{"clock_offset_ms": offset, "owner": username, "reason": reason})
	})
}

// ListProposals returns the merge proposals of p's region with status
// (default open).
func (e *Engine) ListProposals(ctx context.Context, p *prodays.Principal, status string) ([]MergeProposal, error) {
	if status == "" {
		status = "open"
	}
	w, args := regionFilter(p, "region_code")
	rows, err := e.DB.Read.QueryContext(ctx, `SELECT m.id, m.walk_in_id, m.candidate_id, m.reason, COALESCE(m.region_code, ''), m.status, m.created_at,
		COALESCE(tw.last_name || ' ' || tw.first_name, ''), COALESCE(tc.last_name || ' ' || tc.first_name, '')
		FROM merge_proposals m LEFT JOIN trainees tw ON tw.id = m.walk_in_id LEFT JOIN trainees tc ON tc.id = m.candidate_id
		WHERE `+strings.Replace(w, "region_code", "m.region_code", 1)+` AND m.status = ? ORDER BY m.id LIMIT 1000`, append(args, status)...)
	if err != nil {
		return nil, fmt.Errorf("list proposals: %w", err)
	}
	defer rows.Close()
	out := []MergeProposal{}
	for rows.Next() {
		var m MergeProposal
		if err := rows.Scan(&m.ID, &m.WalkInID, &m.CandidateID, &m.Reason, &m.RegionCode, &m.Status, &m.CreatedAt, &m.WalkInName, &m.CandidateName); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// ListDevices returns the devices of the users of p's region (admins: all).
func (e *Engine) ListDevices(ctx context.Context, p *prodays.Principal) ([]Device, error) {
	q := `SELECT d.id, d.username, d.last_seen_at, COALESCE(d.last_push_at, ''), d.app_version, d.clock_offset_ms, d.clock_skewed,
		d.outbox_size, d.max_seq, d.revoked_at IS NOT NULL,
		COALESCE(d.skew_acknowledged_at, ''), COALESCE(d.skew_acknowledged_by, '') FROM devices d JOIN users u ON u.username = d.username
		LEFT JOIN establishments e ON e.code = u.establishment_code`
	var args []any
	if p.Role != prodays.RoleAdmin {
		q += ` WHERE COALESCE(u.region_code, e.region_code) = ?`
		args = append(args, p.RegionCode)
	}
	rows, err := e.DB.Read.QueryContext(ctx, q+` ORDER BY d.username, d.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	out := []Device{}
	for rows.Next() {
		var d Device
		if err := rows.Scan(&d.ID, &d.Username, &d.LastSeenAt, &d.LastPushAt, &d.AppVersion, &d.ClockOffsetMS, &d.ClockSkewed,
			&d.OutboxSize, &d.MaxSeq, &d.Revoked, &d.SkewAcknowledgedAt, &d.SkewAcknowledgedBy); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		gaps, err := e.seqGaps(ctx, out[i].ID, out[i].MaxSeq)
		if err != nil {
			return nil, err
		}
		out[i].SeqGaps = gaps
	}
	return out, nil
}

// seqGaps returns the ranges [from, to] of seqs from 1 to maxSeq never
// received (protocol.SeqGaps). Seqs are bounded on the wire
// (protocol.MaxInteger), but a database written before holds any int64:
// nothing here overflows.
func (e *Engine) seqGaps(ctx context.Context, device string, maxSeq int64) ([][2]int64, error) {
	rows, err := e.DB.Read.QueryContext(ctx, `SELECT DISTINCT seq FROM mutations WHERE device_id = ? AND seq > 0 AND seq <= ? ORDER BY seq`, device, maxSeq)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var seqs []int64
	for rows.Next() {
		var s int64
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		seqs = append(seqs, s)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return protocol.SeqGaps(seqs, maxSeq), nil
}

// audit records a review decision in the audit log of the transaction.
func (t *txc) audit(p *prodays.Principal, action, target string, detail map[string]any) error {
	return store.Audit(t.ctx, t, t.now, store.AuditEntry{Username: p.Username, DeviceID: p.DeviceID, Action: action, Target: target, Detail: detail})
}

func supervisorOf(p *prodays.Principal, region string) error {
	if p.Role != prodays.RoleAdmin && (p.Role != prodays.RoleSupervisor || region == "" || region != p.RegionCode) {
		return forbidden()
	}
	return nil
}

// DecideFlag accepts or rejects flag id (supervisor of its region, admin).
// Accepting a late check-in applies it unless it is also outside the date
// window (then an out_of_window flag opens, as if it had arrived before
// the close); accepting an out_of_window check-in or a late undo applies
// it. Rejecting marks the mutation rejected (quarantine, code
// flag_rejected). Errors: not_found, forbidden, already_decided, invalid
// (accepting a check-in still awaiting its walk-in's registration).
func (e *Engine) DecideFlag(ctx context.Context, p *prodays.Principal, id int64, accept bool, reason string) error {
	return e.withTx(ctx, func(t *txc) error {
		var kind, status, mutID, actID, region string
		err := t.QueryRowContext(ctx, `SELECT kind, status, COALESCE(mutation_id, ''), COALESCE(activity_id, ''), COALESCE(region_code, '') FROM flags WHERE id = ?`, id).
			Scan(&kind, &status, &mutID, &actID, &region)
		if errors.Is(err, sql.ErrNoRows) {
			return prodays.Errorf(prodays.ENotFound, "No flag %d.", id)
		} else if err != nil {
			return err
		}
		if err := supervisorOf(p, region); err != nil {
			return err
		}
		if status != "open" {
			return prodays.Errorf(EAlreadyDecided, "Flag %d is already %s.", id, status)
		}
		if accept && kind == protocol.FlagAwaitingRegistration {
			return prodays.Errorf(prodays.EInvalid, "This check-in waits for its walk-in's registration; it applies by itself when it arrives.")
		}
		decision := "rejected"
		if accept {
			decision = "accepted"
		}
		if _, err := t.exec(`UPDATE flags SET status = ?, decided_by = ?, decided_at = ?, reason = ? WHERE id = ?`,
			decision, p.Username, store.FormatTime(t.now), reason, id); err != nil {
			return err
		}
		act, err := t.activity(actID)
		if err != nil {
			return err
		}
		if err := t.settleFlagged(act, id, mutID, kind, accept, reason); err != nil {
			return err
		}
		return t.audit(p, "review.flag_"+decision, fmt.Sprintf("flag:%d", id), map[string]any{"kind": kind, "mutation_id": mutID, "reason": reason})
	})
}

// DecideConflict confirms the applied winner of conflict id, or reverses it
// (the loser's value is written as the supervisor's, newest, write).
func (e *Engine) DecideConflict(ctx context.Context, p *prodays.Principal, id int64, confirm bool, reason string) error {
	return e.withTx(ctx, func(t *txc) error {
		var c Conflict
		err := t.QueryRowContext(ctx, `SELECT trainee_id, field, base_version, loser_value, COALESCE(region_code, ''), status FROM conflicts WHERE id = ?`, id).
			Scan(&c.TraineeID, &c.Field, &c.BaseVersion, &c.LoserValue, &c.RegionCode, &c.Status)
		if errors.Is(err, sql.ErrNoRows) {
			return prodays.Errorf(prodays.ENotFound, "No conflict %d.", id)
		} else if err != nil {
			return err
		}
		if err := supervisorOf(p, c.RegionCode); err != nil {
			return err
		}
		if c.Status != "open" {
			return prodays.Errorf(EAlreadyDecided, "Conflict %d is already %s.", id, c.Status)
		}
		decision := "confirmed"
		if !confirm {
			decision = "reversed"
			// The supervisor's write happens now: it wins over both.
			st := protocol.Stamp{OccurredAt: t.now, DeviceID: "review", MutationID: fmt.Sprintf("review-conflict-%d", id)}
			if _, err := t.exec(`INSERT OR REPLACE INTO trainee_field_stamps (trainee_id, field, value, occurred_at, device_id, mutation_id, base_version)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, c.TraineeID, c.Field, c.LoserValue, store.FormatTime(st.OccurredAt), st.DeviceID, st.MutationID, c.BaseVersion); err != nil {
				return err
			}
			if _, err := t.exec(`UPDATE trainees SET `+traineeColumn[c.Field]+` = ? WHERE id = ?`, c.LoserValue, c.TraineeID); err != nil {
				return err
			}
			if err := t.bumpTrainee(c.TraineeID); err != nil {
				return err
			}
			if namesChanged(map[string]string{c.Field: ""}) {
				if err := t.refreshProposals(c.TraineeID); err != nil {
					return err
				}
			}
		}
		if _, err := t.exec(`UPDATE conflicts SET status = ?, decided_by = ?, decided_at = ?, reason = ? WHERE id = ?`,
			decision, p.Username, store.FormatTime(t.now), reason, id); err != nil {
			return err
		}
		return t.audit(p, "review.conflict_"+decision, fmt.Sprintf("conflict:%d", id), map[string]any{"trainee_id": c.TraineeID, "field": c.Field, "reason": reason})
	})
}

// DecideProposal merges (merge true) or dismisses merge proposal id. A
// merge moves the walk-in's check-ins, undo targets and attendance to the
// candidate (presence recomputed), and leaves the walk-in as a tombstone
// (deleted, merged_into) that pulls carry as a delete.
func (e *Engine) DecideProposal(ctx context.Context, p *prodays.Principal, id int64, merge bool, reason string) error {
	return e.withTx(ctx, func(t *txc) error {
		var m MergeProposal
		err := t.QueryRowContext(ctx, `SELECT walk_in_id, candidate_id, COALESCE(region_code, ''), status FROM merge_proposals WHERE id = ?`, id).
			Scan(&m.WalkInID, &m.CandidateID, &m.RegionCode, &m.Status)
		if errors.Is(err, sql.ErrNoRows) {
			return prodays.Errorf(prodays.ENotFound, "No merge proposal %d.", id)
		} else if err != nil {
			return err
		}
		if err := supervisorOf(p, m.RegionCode); err != nil {
			return err
		}
		if m.Status != "open" {
			return prodays.Errorf(EAlreadyDecided, "Merge proposal %d is already %s.", id, m.Status)
		}
		now := store.FormatTime(t.now)
		if !merge {
			if _, err := t.exec(`UPDATE merge_proposals SET status = 'dismissed', decided_by = ?, decided_at = ? WHERE id = ?`, p.Username, now, id); err != nil {
				return err
			}
			return t.audit(p, "review.merge_dismissed", fmt.Sprintf("merge_proposal:%d", id), map[string]any{"walk_in_id": m.WalkInID, "candidate_id": m.CandidateID, "reason": reason})
		}
		keep, err := t.resolveTrainee(m.CandidateID)
		if err != nil {
			return err
		}
		walk, err := t.person(prodays.PersonTrainee, m.WalkInID)
		if err != nil {
			return err
		}
		if keep == nil || walk == nil || walk.Deleted || keep.ID == walk.ID {
			return prodays.Errorf(EAlreadyDecided, "One of the trainees was merged or removed since the proposal.")
		}
		if err := t.mergeTrainee(walk.ID, keep.ID); err != nil {
			return err
		}
		if _, err := t.exec(`UPDATE merge_proposals SET status = 'merged', decided_by = ?, decided_at = ? WHERE id = ?`, p.Username, now, id); err != nil {
			return err
		}
		if _, err := t.exec(`UPDATE merge_proposals SET status = 'dismissed', decided_by = ?, decided_at = ? WHERE status = 'open' AND (walk_in_id = ? OR candidate_id = ?)`,
			p.Username, now, walk.ID, walk.ID); err != nil {
			return err
		}
		return t.audit(p, "review.merge", fmt.Sprintf("merge_proposal:%d", id), map[string]any{"walk_in_id": walk.ID, "kept_id": keep.ID, "reason": reason})
	})
}

// mergeTrainee moves walk's attendance to keep and tombstones walk.
func (t *txc) mergeTrainee(walk, keep string) error {
	rows, err := t.QueryContext(t.ctx, `SELECT activity_id, override, override_reason, override_by, override_at FROM attendance WHERE person_kind = 'trainee' AND person_id = ?`, walk)
	if err != nil {
		return err
	}
	type ov struct {
		act                string
		ov, reason, by, at sql.NullString
	}
	var acts []ov
	for rows.Next() {
		var o ov
		if err := rows.Scan(&o.act, &o.ov, &o.reason, &o.by, &o.at); err != nil {
			rows.Close()
			return err
		}
		acts = append(acts, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// Activities with check-ins of the walk-in but no row yet (all held).
	more, err := t.QueryContext(t.ctx, `SELECT DISTINCT activity_id FROM checkins WHERE walk_in = 1 AND person_kind = 'trainee' AND person_id = ?`, walk)
	if err != nil {
		return err
	}
	touched := map[string]bool{}
	for more.Next() {
		var a string
		if err := more.Scan(&a); err != nil {
			more.Close()
			return err
		}
		touched[a] = true
	}
	more.Close()
	for _, q := range []string{
		`UPDATE checkins SET person_id = ? WHERE walk_in = 1 AND person_kind = 'trainee' AND person_id = ?`,
		`UPDATE undo_targets SET person_id = ? WHERE person_kind = 'trainee' AND person_id = ?`,
	} {
		if _, err := t.exec(q, keep, walk); err != nil {
			return fmt.Errorf("merge: %w", err)
		}
	}
	for _, o := range acts {
		touched[o.act] = true
		act, err := t.activity(o.act)
		if err != nil {
			return err
		}
		if o.ov.Valid {
			if _, err := t.exec(`INSERT INTO attendance (activity_id, person_kind, person_id, present, check_in_ids, override, override_reason, override_by, override_at, updated_at)
				VALUES (?, 'trainee', ?, 0, '[]', ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET override = COALESCE(attendance.override, excluded.override),
				override_reason = COALESCE(attendance.override_reason, excluded.override_reason), override_by = COALESCE(attendance.override_by, excluded.override_by),
				override_at = COALESCE(attendance.override_at, excluded.override_at)`,
				o.act, keep, o.ov, o.reason, o.by, o.at, store.FormatTime(t.now)); err != nil {
				return err
			}
		}
		if _, err := t.exec(`DELETE FROM attendance WHERE activity_id = ? AND person_kind = 'trainee' AND person_id = ?`, o.act, walk); err != nil {
			return err
		}
		if act != nil {
			if err := t.attendanceChange(act, prodays.PersonTrainee, walk, "delete"); err != nil {
				return err
			}
		}
	}
	for _, a := range sortedKeys(touched) {
		act, err := t.activity(a)
		if err != nil {
			return err
		}
		if act == nil {
			continue
		}
		if err := t.recompute(act, prodays.PersonTrainee, keep); err != nil {
			return err
		}
		if err := t.attendanceChange(act, prodays.PersonTrainee, keep, "upsert"); err != nil {
			return err
		}
	}
	if _, err := t.exec(`UPDATE trainees SET deleted = 1, merged_into = ? WHERE id = ?`, keep, walk); err != nil {
		return err
	}
	return t.bumpTrainee(walk)
}

// Close closes activity id (the attendance sheet is signed off): what
// arrives after it is flagged late. A supervisor of the activity's region
// or an admin; with open flags, reason is required (409 review_pending).
func (e *Engine) Close(ctx context.Context, p *prodays.Principal, id, reason string) error {
	return e.withTx(ctx, func(t *txc) error {
		act, err := t.activity(id)
		if err != nil {
			return err
		}
		if act == nil {
			return prodays.Errorf(prodays.ENotFound, "No activity %q.", id)
		}
		if err := supervisorOf(p, act.Region); err != nil {
			return err
		}
		if act.closed() {
			return nil
		}
		var open int
		if err := t.QueryRowContext(ctx, `SELECT count(*) FROM flags WHERE activity_id = ? AND status = 'open'`, id).Scan(&open); err != nil {
			return err
		}
		if open > 0 && strings.TrimSpace(reason) == "" {
			return &prodays.Error{Code: EReviewPending, Message: fmt.Sprintf("Activity %s has %d open flags: decide them, or give a reason to close anyway.", id, open),
				Detail: map[string]any{"open_flags": open}}
		}
		if _, err := t.exec(`UPDATE activities SET status = 'closed', closed_at = ?, closed_by = ?, close_reason = ? WHERE id = ?`,
			store.FormatTime(t.now), p.Username, reason, id); err != nil {
			return err
		}
		if err := store.RecordChange(ctx, t, store.Change{Entity: "activity", ID: id, Op: "upsert", RegionCode: act.Region, EstablishmentCode: act.Establishment}); err != nil {
			return err
		}
		return t.audit(p, "activity.close", "activity:"+id, map[string]any{"reason": reason, "open_flags": open})
	})
}

// Reopen reopens a closed activity (admins only; the route checks the role).
func (e *Engine) Reopen(ctx context.Context, p *prodays.Principal, id, reason string) error {
	if p.Role != prodays.RoleAdmin {
		return prodays.Errorf(prodays.EForbidden, "Only an admin may reopen an activity.")
	}
	return e.withTx(ctx, func(t *txc) error {
		act, err := t.activity(id)
		if err != nil {
			return err
		}
		if act == nil {
			return prodays.Errorf(prodays.ENotFound, "No activity %q.", id)
		}
		if _, err := t.exec(`UPDATE activities SET status = 'open', closed_at = NULL, closed_by = NULL, close_reason = NULL WHERE id = ?`, id); err != nil {
			return err
		}
		if err := store.RecordChange(ctx, t, store.Change{Entity: "activity", ID: id, Op: "upsert", RegionCode: act.Region, EstablishmentCode: act.Establishment}); err != nil {
			return err
		}
		return t.audit(p, "activity.reopen", "activity:"+id, map[string]any{"reason": reason})
	})
}

// Override sets a supervisor's decision on a presence (present or absent,
// with a mandatory reason); it wins over the phones until changed.
func (e *Engine) Override(ctx context.Context, p *prodays.Principal, activityID string, person protocol.Person, present bool, reason string) error {
	if strings.TrimSpace(reason) == "" {
		return prodays.Errorf(prodays.EInvalid, "A reason is required to override a presence.")
	}
	if person.Kind != prodays.PersonTrainee && person.Kind != prodays.PersonSpeaker {
		return prodays.Errorf(prodays.EInvalid, "person.kind must be trainee or speaker.")
	}
	return e.withTx(ctx, func(t *txc) error {
		act, err := t.activity(activityID)
		if err != nil {
			return err
		}
		if act == nil {
			return prodays.Errorf(prodays.ENotFound, "No activity %q.", activityID)
		}
		if err := supervisorOf(p, act.Region); err != nil {
			return err
		}
		return t.override(p, act, person, present, reason)
	})
}

// override sets p's presence decision for person at act (Override's
// transaction; ResolveQuarantined's count_present): the attendance row's
// override, its presence recomputed, the change log and the audit.
func (t *txc) override(p *prodays.Principal, act *activity, person protocol.Person, present bool, reason string) error {
	id := person.ID
	if person.Kind == prodays.PersonTrainee {
		tr, err := t.resolveTrainee(person.ID)
		if err != nil {
			return err
		}
		if tr == nil {
			return prodays.Errorf(prodays.ENotFound, "No trainee %q.", person.ID)
		}
		id = tr.ID
	} else if sp, err := t.person(person.Kind, person.ID); err != nil {
		return err
	} else if sp == nil {
		return prodays.Errorf(prodays.ENotFound, "No speaker %q.", person.ID)
	}
	ov := protocol.OverrideAbsent
	if present {
		ov = protocol.OverridePresent
	}
	now := store.FormatTime(t.now)
	if _, err := t.exec(`INSERT INTO attendance (activity_id, person_kind, person_id, present, check_in_ids, override, override_reason, override_by, override_at, updated_at)
		VALUES (?, ?, ?, 0, '[]', ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET override = excluded.override, override_reason = excluded.override_reason,
		override_by = excluded.override_by, override_at = excluded.override_at`,
		act.ID, person.Kind, id, ov, reason, p.Username, now, now); err != nil {
		return err
	}
	if err := t.recompute(act, person.Kind, id); err != nil {
		return err
	}
	if err := t.attendanceChange(act, person.Kind, id, "upsert"); err != nil {
		return err
	}
	return t.audit(p, "attendance.override", "attendance:"+AttendanceID(act.ID, person.Kind, id), map[string]any{"override": ov, "reason": reason})
}
