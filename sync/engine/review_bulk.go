package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"prodays"
	"prodays/internal/derrors"
	"prodays/store"
	"prodays/sync/protocol"
	"prodays/sync/review"
)

// DecideItems applies one decision (review.BulkDismiss, review.BulkAccept) with one
// reason to the items of refs, or when refs is empty to every item that
// matches q (its cursor and limit ignored), in one transaction. Each item
// goes through the rule of its single decision (DecideFlag,
// ResolveQuarantined) and is audited on its own; dismissing an item of a
// cancelling pair (ReviewItem.Pair) dismisses its pair too. Errors:
// invalid (an unknown action, accept without a reason, no item, more
// than review.MaxBulkItems, a ref that is not an item still to review, or an
// item the action does not fit), forbidden, and those of the single
// decisions; nothing is decided then.
func (e *Engine) DecideItems(ctx context.Context, p *prodays.Principal, refs []string, q ReviewQuery, action, reason string) (_ *BulkResult, err error) {
	defer derrors.Wrap(&err, "engine.DecideItems(%s)", action)
	if action != review.BulkDismiss && action != review.BulkAccept {
		return nil, prodays.Errorf(prodays.EInvalid, "action must be %s or %s.", review.BulkDismiss, review.BulkAccept)
	}
	if action == review.BulkAccept && strings.TrimSpace(reason) == "" {
		return nil, prodays.Errorf(prodays.EInvalid, "A reason is required to accept items.")
	}
	if len(refs) > review.MaxBulkItems {
		return nil, prodays.Errorf(prodays.EInvalid, "At most %d items at once.", review.MaxBulkItems)
	}
	q.After, q.Refs = "", refs
	items, err := e.reviewItems(ctx, p, q, review.MaxBulkItems+1)
	if err != nil {
		return nil, err
	}
	if len(items) > review.MaxBulkItems {
		return nil, prodays.Errorf(prodays.EInvalid, "More than %d items match: narrow the filters.", review.MaxBulkItems)
	}
	if len(refs) > 0 && len(items) != len(refs) {
		found := map[string]bool{}
		for _, it := range items {
			found[it.Ref] = true
		}
		for _, r := range refs {
			if !found[r] {
				return nil, prodays.Errorf(prodays.EInvalid, "%s is not an item still to review in your region.", r)
			}
		}
	}
	if len(items) == 0 {
		return nil, prodays.Errorf(prodays.EInvalid, "No item to decide.")
	}
	res := &BulkResult{Decided: []string{}, Skipped: []string{}}
	err = e.withTx(ctx, func(t *txc) error {
		res.Decided, res.Skipped = res.Decided[:0], res.Skipped[:0]
		done := map[string]bool{}
		for _, it := range items {
			for _, ref := range []string{it.Ref, it.Pair} {
				if ref == "" || done[ref] || (ref == it.Pair && action != review.BulkDismiss) {
					continue
				}
				done[ref] = true
				err := t.decideRef(p, ref, action, reason)
				if prodays.ErrorCode(err) == EAlreadyDecided {
					res.Skipped = append(res.Skipped, ref)
					continue
				}
				if err != nil {
					return fmt.Errorf("%s: %w", ref, err)
				}
				res.Decided = append(res.Decided, ref)
			}
		}
		return t.audit(p, "review.bulk_"+action, "review", map[string]any{"decided": len(res.Decided), "skipped": len(res.Skipped), "reason": reason})
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// decideRef applies a bulk action to one item through its single
// decision's rule.
func (t *txc) decideRef(p *prodays.Principal, ref, action, reason string) error {
	kind, id, _ := strings.Cut(ref, ":")
	switch kind {
	case "flag":
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			return prodays.Errorf(prodays.EInvalid, "Bad item %q.", ref)
		}
		return t.decideFlag(p, n, action == review.BulkAccept, reason)
	case "mutation":
		a := QuarantineAcknowledge
		if action == review.BulkAccept {
			a = QuarantineCountPresent
		}
		return t.resolveQuarantined(p, id, a, reason)
	}
	return prodays.Errorf(prodays.EInvalid, "Bad item %q.", ref)
}

// AttachTrainee settles a check-in refused unknown_trainee (a mistyped
// matricule) by naming the right trainee: the check-in then takes effect
// as any held mutation does, checked against its pusher's scope now
// (admit: refused, nothing changes and the error carries the refusal's
// code), then applied (it counts in the bilan), or flagged late / out of
// window like a check-in arriving now. The typed id stays as the
// check-in's original_person_id; the decision is audited. A supervisor of
// the activity's region, or an admin. Errors: not_found (no such refused
// mutation, no such trainee), forbidden, invalid (not an unknown_trainee
// check-in), already_decided, and the refusal codes of admit.
func (e *Engine) AttachTrainee(ctx context.Context, p *prodays.Principal, mutationID, traineeID, reason string) (err error) {
	defer derrors.Wrap(&err, "engine.AttachTrainee(%s, %s)", mutationID, traineeID)
	return e.withTx(ctx, func(t *txc) error {
		r, err := t.refusal(mutationID)
		if prodays.ErrorCode(err) == prodays.ENotFound {
			return t.attachedBefore(p, mutationID, err)
		} else if err != nil {
			return err
		}
		if r.typ != protocol.TypeCheckIn || r.code != protocol.CodeUnknownTrainee || r.Person.Kind != prodays.PersonTrainee {
			return prodays.Errorf(prodays.EInvalid, "Only a check-in refused as unknown_trainee can be attached to a trainee.")
		}
		act, err := t.activity(r.ActivityID)
		if err != nil {
			return err
		}
		if act == nil {
			return prodays.Errorf(prodays.EInvalid, "The check-in's activity %q is unknown.", r.ActivityID)
		}
		if err := supervisorOf(p, act.Region); err != nil {
			return err
		}
		if r.decision.Valid {
			return prodays.Errorf(EAlreadyDecided, "Mutation %s is already resolved (%s).", mutationID, r.decision.String)
		}
		tr, err := t.resolveTrainee(traineeID)
		if err != nil {
			return err
		}
		if tr == nil || tr.Deleted {
			return prodays.Errorf(prodays.ENotFound, "No trainee %q.", traineeID)
		}
		pusher, err := t.pusherOf(r.username, r.device)
		if err != nil {
			return err
		}
		if o, err := t.admit(pusher, &protocol.Mutation{Type: protocol.TypeCheckIn, ActivityID: act.ID}); err != nil {
			return err
		} else if o != nil {
			return prodays.Errorf(o.code, "%s", o.message)
		}
		occ, err := store.ParseTime(r.occurred)
		if err != nil {
			return fmt.Errorf("refused check-in %s: %w", mutationID, err)
		}
		g := t.gate(act, occ, true)
		status := protocol.StatusApplied
		if g.status != "" {
			status = protocol.StatusFlagged
		}
		if _, err := t.exec(insertCheckIn+`(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, mutationID, act.ID, prodays.PersonTrainee, tr.ID, r.Person.ID, r.device, r.Method,
			r.recorded, r.occurred, r.received, status, boolInt(r.capped), r.seq, r.username, boolInt(tr.WalkIn)); err != nil {
			return fmt.Errorf("insert check-in: %w", err)
		}
		if _, err := t.exec(`UPDATE mutation_log SET status = ?, code = ?, message = ?, review_decision = 'acknowledged', review_decided_by = ?, review_decided_at = ?, review_reason = ?
			WHERE id = ?`, status, g.code, g.message, p.Username, store.FormatTime(t.now), reason, mutationID); err != nil {
			return err
		}
		if g.status != "" {
			if err := t.flag(g.code, mutationID, act, r.device, map[string]any{"person_kind": prodays.PersonTrainee, "person_id": tr.ID,
				"occurred_at": r.occurred, "activity_date": act.Date}); err != nil {
				return err
			}
		} else if err := t.recompute(act, prodays.PersonTrainee, tr.ID); err != nil {
			return err
		}
		return t.audit(p, "review.attach_trainee", "mutation:"+mutationID, map[string]any{"typed_id": r.Person.ID, "trainee_id": tr.ID,
			"activity_id": act.ID, "status": status, "reason": reason})
	})
}

// attachedBefore answers the attach of a mutation that is not a refused
// one: already_decided (409) to a supervisor of its activity's region
// when a supervisor attached it before (its log row is no longer
// rejected and keeps the decision), forbidden to anyone else, and
// notFound when no supervisor attached it.
func (t *txc) attachedBefore(p *prodays.Principal, mutationID string, notFound error) error {
	var payload, decision string
	err := t.QueryRowContext(t.ctx, `SELECT payload, review_decision FROM mutation_log WHERE id = ? AND status <> 'rejected' AND review_decision IS NOT NULL`, mutationID).
		Scan(&payload, &decision)
	if err != nil {
		return notFound
	}
	var m struct {
		ActivityID string `json:"activity_id"`
	}
	if json.Unmarshal([]byte(payload), &m) != nil {
		return notFound
	}
	act, err := t.activity(m.ActivityID)
	if err != nil || act == nil {
		return notFound
	}
	if err := supervisorOf(p, act.Region); err != nil {
		return err // forbidden, as for a refused mutation of its region
	}
	return prodays.Errorf(EAlreadyDecided, "Mutation %s is already resolved (%s).", mutationID, decision)
}
