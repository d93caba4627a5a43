package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"prodays"
	"prodays/internal/derrors"
	"prodays/store"
	"prodays/sync/protocol"
)

// audit records a review decision in the audit log of the transaction.
func (t *txc) audit(p *prodays.Principal, action, target string, detail map[string]any) error {
	return store.Audit(t.ctx, t, t.now, store.AuditEntry{Username: p.Username, DeviceID: p.DeviceID, Action: action, Target: target, Detail: detail})
}

// supervisorOf reports forbidden unless p reviews region
// (prodays.Scope.ReviewsRegion: an admin, or the supervisor of region).
func supervisorOf(p *prodays.Principal, region string) error {
	if !p.ReviewsRegion(region) {
		return forbidden()
	}
	return nil
}

// reviewItem is a kind of review item decided by a supervisor: its table
// (with id, region_code and status columns) and its name in messages.
type reviewItem struct{ table, noun, Noun string }

var (
	reviewFlag     = reviewItem{"flags", "flag", "Flag"}
	reviewConflict = reviewItem{"conflicts", "conflict", "Conflict"}
	reviewProposal = reviewItem{"merge_proposals", "merge proposal", "Merge proposal"}
)

// openItem loads the columns cols of review item id into dest and checks
// that p may decide it: it exists (else not_found), p supervises its
// region or is an admin (else forbidden), and it is still open (else
// already_decided).
func (t *txc) openItem(p *prodays.Principal, it reviewItem, id int64, cols string, dest ...any) error {
	var region, status string
	err := t.QueryRowContext(t.ctx, `SELECT `+cols+`, COALESCE(region_code, ''), status FROM `+it.table+` WHERE id = ?`, id).
		Scan(append(dest, &region, &status)...)
	if errors.Is(err, sql.ErrNoRows) {
		return prodays.Errorf(prodays.ENotFound, "No %s %d.", it.noun, id)
	} else if err != nil {
		return err
	}
	if err := supervisorOf(p, region); err != nil {
		return err
	}
	if status != "open" {
		return prodays.Errorf(EAlreadyDecided, "%s %d is already %s.", it.Noun, id, status)
	}
	return nil
}

// DecideFlag accepts or rejects flag id (supervisor of its region, admin).
// Accepting a late check-in applies it unless it is also outside the date
// window (then an out_of_window flag opens, as if it had arrived before
// the close); accepting an out_of_window check-in or a late undo applies
// it. Rejecting marks the mutation rejected (quarantine, code
// flag_rejected) and decided (review_decision acknowledged, with who, when
// and the reason): it stays in the quarantine's history, never queued
// again. Errors: not_found, forbidden, already_decided, invalid
// (accepting a check-in still awaiting its walk-in's registration).
func (e *Engine) DecideFlag(ctx context.Context, p *prodays.Principal, id int64, accept bool, reason string) (err error) {
	defer derrors.Wrap(&err, "engine.DecideFlag(%d)", id)
	return e.withTx(ctx, func(t *txc) error { return t.decideFlag(p, id, accept, reason) })
}

// decideFlag is DecideFlag in transaction t.
func (t *txc) decideFlag(p *prodays.Principal, id int64, accept bool, reason string) error {
	var kind, mutID, actID string
	if err := t.openItem(p, reviewFlag, id, `kind, COALESCE(mutation_id, ''), COALESCE(activity_id, '')`, &kind, &mutID, &actID); err != nil {
		return err
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
	if !accept {
		// The decision closes the item: the rejected mutation is in the
		// quarantine's history, decided, never a new item to review
		// (issue #18, finding 4).
		if _, err := t.exec(`UPDATE mutation_log SET review_decision = 'acknowledged', review_decided_by = ?, review_decided_at = ?, review_reason = ?
			WHERE id = ? AND review_decision IS NULL`, p.Username, store.FormatTime(t.now), reason, mutID); err != nil {
			return err
		}
	}
	return t.audit(p, "review.flag_"+decision, fmt.Sprintf("flag:%d", id), map[string]any{"kind": kind, "mutation_id": mutID, "reason": reason})
}

// DecideConflict confirms the applied winner of conflict id, or reverses it
// (the loser's value is written as the supervisor's, newest, write).
func (e *Engine) DecideConflict(ctx context.Context, p *prodays.Principal, id int64, confirm bool, reason string) (err error) {
	defer derrors.Wrap(&err, "engine.DecideConflict(%d)", id)
	return e.withTx(ctx, func(t *txc) error {
		var c Conflict
		if err := t.openItem(p, reviewConflict, id, `trainee_id, field, base_version, loser_value`, &c.TraineeID, &c.Field, &c.BaseVersion, &c.LoserValue); err != nil {
			return err
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
func (e *Engine) DecideProposal(ctx context.Context, p *prodays.Principal, id int64, merge bool, reason string) (err error) {
	defer derrors.Wrap(&err, "engine.DecideProposal(%d)", id)
	return e.withTx(ctx, func(t *txc) error {
		var m MergeProposal
		if err := t.openItem(p, reviewProposal, id, `walk_in_id, candidate_id`, &m.WalkInID, &m.CandidateID); err != nil {
			return err
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
