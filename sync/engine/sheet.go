package engine

import (
	"context"
	"fmt"
	"strings"

	"prodays"
	"prodays/internal/derrors"
	"prodays/store"
	"prodays/sync/protocol"
)

// existingActivity returns activity id; not_found when there is none.
func (t *txc) existingActivity(id string) (*activity, error) {
	act, err := t.activity(id)
	if err != nil {
		return nil, err
	}
	if act == nil {
		return nil, prodays.Errorf(prodays.ENotFound, "No activity %q.", id)
	}
	return act, nil
}

// supervisedActivity returns activity id when p supervises its region or
// is an admin. Errors: not_found, forbidden.
func (t *txc) supervisedActivity(p *prodays.Principal, id string) (*activity, error) {
	act, err := t.existingActivity(id)
	if err != nil {
		return nil, err
	}
	if err := supervisorOf(p, act.Region); err != nil {
		return nil, err
	}
	return act, nil
}

// activityChanged records an upsert of act in the change log, under its
// scope keys.
func (t *txc) activityChanged(act *activity) error {
	return store.RecordChange(t.ctx, t, store.Change{Entity: "activity", ID: act.ID, Op: "upsert", RegionCode: act.Region, EstablishmentCode: act.Establishment})
}

// Close closes activity id (the attendance sheet is signed off): what
// arrives after it is flagged late. A supervisor of the activity's region
// or an admin; with open flags, reason is required (409 review_pending).
func (e *Engine) Close(ctx context.Context, p *prodays.Principal, id, reason string) (err error) {
	defer derrors.Wrap(&err, "engine.Close(%s)", id)
	return e.withTx(ctx, func(t *txc) error {
		act, err := t.supervisedActivity(p, id)
		if err != nil {
			return err
		}
		if act.closed() {
			return nil
		}
		var open, merges int
		if err := t.QueryRowContext(ctx, `SELECT count(*) FROM flags WHERE activity_id = ? AND status = 'open'`, id).Scan(&open); err != nil {
			return err
		}
		if err := t.QueryRowContext(ctx, `SELECT `+pendingMerges("?"), id).Scan(&merges); err != nil {
			return err
		}
		if open+merges > 0 && strings.TrimSpace(reason) == "" {
			return &prodays.Error{Code: EReviewPending, Message: fmt.Sprintf("Activity %s has %d open flags and %d pending merge proposals of its people: decide them, or give a reason to close anyway.", id, open, merges),
				Detail: map[string]any{"open_flags": open, "pending_merges": merges}}
		}
		if _, err := t.exec(`UPDATE activities SET status = 'closed', closed_at = ?, closed_by = ?, close_reason = ? WHERE id = ?`,
			store.FormatTime(t.now), p.Username, reason, id); err != nil {
			return err
		}
		if err := t.activityChanged(act); err != nil {
			return err
		}
		return t.audit(p, "activity.close", "activity:"+id, map[string]any{"reason": reason, "open_flags": open, "pending_merges": merges})
	})
}

// pendingMerges is the SQL count of the open merge proposals of the
// people of the activity whose id is the SQL expression activity (a
// walk-in or its candidate with a row on its sheet): like open flags, they
// keep its sheet from closing without a reason (issue #18, finding 3).
func pendingMerges(activity string) string {
	return `(SELECT count(*) FROM merge_proposals m WHERE m.status = 'open' AND EXISTS (SELECT 1 FROM attendance t
	WHERE t.activity_id = ` + activity + ` AND t.person_kind = 'trainee' AND t.person_id IN (m.walk_in_id, m.candidate_id)))`
}

// Reopen reopens a closed activity (admins only; the route checks the role).
func (e *Engine) Reopen(ctx context.Context, p *prodays.Principal, id, reason string) (err error) {
	defer derrors.Wrap(&err, "engine.Reopen(%s)", id)
	if p.Role != prodays.RoleAdmin {
		return prodays.Errorf(prodays.EForbidden, "Only an admin may reopen an activity.")
	}
	return e.withTx(ctx, func(t *txc) error {
		act, err := t.existingActivity(id)
		if err != nil {
			return err
		}
		if _, err := t.exec(`UPDATE activities SET status = 'open', closed_at = NULL, closed_by = NULL, close_reason = NULL WHERE id = ?`, id); err != nil {
			return err
		}
		if err := t.activityChanged(act); err != nil {
			return err
		}
		return t.audit(p, "activity.reopen", "activity:"+id, map[string]any{"reason": reason})
	})
}

// Override sets a supervisor's decision on a presence (present or absent,
// with a mandatory reason); it wins over the phones until changed.
func (e *Engine) Override(ctx context.Context, p *prodays.Principal, activityID string, person protocol.Person, present bool, reason string) (err error) {
	defer derrors.Wrap(&err, "engine.Override(%s, %s:%s)", activityID, person.Kind, person.ID)
	if strings.TrimSpace(reason) == "" {
		return prodays.Errorf(prodays.EInvalid, "A reason is required to override a presence.")
	}
	if person.Kind != prodays.PersonTrainee && person.Kind != prodays.PersonSpeaker {
		return prodays.Errorf(prodays.EInvalid, "person.kind must be trainee or speaker.")
	}
	return e.withTx(ctx, func(t *txc) error {
		act, err := t.supervisedActivity(p, activityID)
		if err != nil {
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
	return t.audit(p, "attendance.override", "attendance:"+protocol.AttendanceID(act.ID, person.Kind, id), map[string]any{"override": ov, "reason": reason})
}
