package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"

	"prodays"
	"prodays/internal/derrors"
	"prodays/store"
	"prodays/sync/protocol"
)

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
func (e *Engine) ResolveQuarantined(ctx context.Context, p *prodays.Principal, id, action, reason string) (err error) {
	defer derrors.Wrap(&err, "engine.ResolveQuarantined(%s, %s)", id, action)
	if action != QuarantineAcknowledge && action != QuarantineCountPresent {
		return prodays.Errorf(prodays.EInvalid, "action must be acknowledge or count_present.")
	}
	if action == QuarantineCountPresent && strings.TrimSpace(reason) == "" {
		return prodays.Errorf(prodays.EInvalid, "A reason is required to count a refused check-in present.")
	}
	return e.withTx(ctx, func(t *txc) error { return t.resolveQuarantined(p, id, action, reason) })
}

// resolveQuarantined is ResolveQuarantined in transaction t (the action
// and reason checked).
func (t *txc) resolveQuarantined(p *prodays.Principal, id, action, reason string) error {
	r, err := t.refusal(id)
	if err != nil {
		return err
	}
	act, err := t.activity(r.ActivityID)
	if err != nil {
		return err
	}
	userRegion, err := t.userRegion(r.username)
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
	if r.decision.Valid {
		return prodays.Errorf(EAlreadyDecided, "Mutation %s is already resolved (%s).", id, r.decision.String)
	}
	done := "acknowledged"
	if action == QuarantineCountPresent {
		if r.typ != protocol.TypeCheckIn || act == nil || r.Person.ID == "" ||
			r.Person.Kind != prodays.PersonTrainee && r.Person.Kind != prodays.PersonSpeaker {
			return prodays.Errorf(prodays.EInvalid, "Only a refused check-in of a known activity can be counted present.")
		}
		if err := t.override(p, act, r.Person, true, reason); err != nil {
			return err
		}
		done = "counted_present"
	}
	if _, err := t.exec(`UPDATE mutation_log SET review_decision = ?, review_decided_by = ?, review_decided_at = ?, review_reason = ? WHERE id = ?`,
		done, p.Username, store.FormatTime(t.now), reason, id); err != nil {
		return err
	}
	return t.audit(p, "review.quarantine_"+done, "mutation:"+id, map[string]any{"type": r.typ, "activity_id": r.ActivityID, "reason": reason})
}

// refusal is a mutation the server refused (mutation_log, status
// rejected) as a review decision reads it.
type refusal struct {
	device, username, typ, code, recorded, occurred, received string
	seq                                                       int64
	capped                                                    bool
	decision                                                  sql.NullString
	refusedCheckIn
}

// refusedCheckIn is what a decision reads of a refused mutation's payload.
type refusedCheckIn struct {
	ActivityID string          `json:"activity_id"`
	Person     protocol.Person `json:"person"`
	Method     string          `json:"method"`
}

// refusal reads refused mutation id. Errors: not_found.
func (t *txc) refusal(id string) (*refusal, error) {
	r := &refusal{}
	var payload string
	err := t.QueryRowContext(t.ctx, `SELECT device_id, username, type, code, payload, recorded_at, occurred_at, received_at, seq, occurred_capped, review_decision
		FROM mutation_log WHERE id = ? AND status = 'rejected'`, id).
		Scan(&r.device, &r.username, &r.typ, &r.code, &payload, &r.recorded, &r.occurred, &r.received, &r.seq, &r.capped, &r.decision)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, prodays.Errorf(prodays.ENotFound, "No refused mutation %q.", id)
	} else if err != nil {
		return nil, err
	}
	_ = json.Unmarshal([]byte(payload), &r.refusedCheckIn)
	return r, nil
}

// AcknowledgeSkew takes device id's clock-skew mark out of the review
// queue (the offset and the mark stay in ListDevices), audited. A
// supervisor of the device owner's region or an admin. Errors: not_found,
// forbidden, already_decided (acknowledged already, or no skew mark).
func (e *Engine) AcknowledgeSkew(ctx context.Context, p *prodays.Principal, id, reason string) (err error) {
	defer derrors.Wrap(&err, "engine.AcknowledgeSkew(%s)", id)
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
