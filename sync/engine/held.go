package engine

import (
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"

	"prodays"
	"prodays/store"
	"prodays/sync/protocol"
)

// The mutations that take effect after they arrive: check-ins held for a
// walk-in's registration (releaseHeld, refuseHeld) and flagged check-ins
// and undos a supervisor decides (settleFlagged). Each is checked by admit
// (scope.go) with its pusher's scope when it takes effect.

// releaseHeld re-gates the check-ins held for walk-in traineeID once its
// registration arrived: each is checked against its pusher's scope as if
// it had arrived now (admit: refused out_of_scope, or unknown_activity),
// then applied, or flagged late / out of window.
func (t *txc) releaseHeld(traineeID string) error {
	type heldRow struct {
		flagID                 int64
		id, activity, occurred string
		device, username       string
	}
	hs, err := store.Query(t.ctx, t, func(s store.Scanner) (heldRow, error) {
		var h heldRow
		err := s.Scan(&h.flagID, &h.id, &h.activity, &h.occurred, &h.device, &h.username)
		return h, err
	}, `SELECT f.id, c.id, c.activity_id, c.occurred_at, c.device_id, c.username FROM checkins c
		JOIN flags f ON f.mutation_id = c.id AND f.kind = 'awaiting_registration' AND f.status = 'open'
		WHERE c.walk_in = 1 AND c.person_kind = 'trainee' AND c.person_id = ? AND c.status = 'flagged'`, traineeID)
	if err != nil {
		return fmt.Errorf("held check-ins: %w", err)
	}
	touched := map[string]*activity{}
	pushers := map[string]*prodays.Principal{}
	for _, h := range hs {
		p := pushers[h.username+"\x00"+h.device]
		if p == nil {
			if p, err = t.pusherOf(h.username, h.device); err != nil {
				return err
			}
			pushers[h.username+"\x00"+h.device] = p
		}
		if ok, err := t.admitHeld(p, &protocol.Mutation{Type: protocol.TypeCheckIn, ActivityID: h.activity}, h.id, h.flagID, true); err != nil {
			return err
		} else if !ok {
			continue
		}
		act, err := t.activity(h.activity)
		if err != nil {
			return err
		}
		occ, err := store.ParseTime(h.occurred)
		if err != nil {
			return fmt.Errorf("held check-in %s: %w", h.id, err)
		}
		if g := t.gate(act, occ, true); g.status != "" {
			if err := t.flag(g.code, h.id, act, h.device, map[string]any{"person_kind": "trainee", "person_id": traineeID,
				"occurred_at": h.occurred, "activity_date": act.Date}); err != nil {
				return err
			}
			if err := t.settleHeldOutcome(h.id, g); err != nil {
				return err
			}
			continue
		}
		if _, err := t.exec(`UPDATE checkins SET status = 'applied' WHERE id = ?`, h.id); err != nil {
			return err
		}
		if err := t.settleHeldOutcome(h.id, applied()); err != nil {
			return err
		}
		touched[act.ID] = act
	}
	for _, id := range slices.Sorted(maps.Keys(touched)) {
		if err := t.recompute(touched[id], prodays.PersonTrainee, traineeID); err != nil {
			return err
		}
	}
	return nil
}

// refuseHeld rejects the check-ins held for walk-in traineeID with the
// reason its registration was refused (never orphaned).
func (t *txc) refuseHeld(traineeID, code, msg string) error {
	now := store.FormatTime(t.now)
	if _, err := t.exec(`UPDATE flags SET status = 'rejected', decided_by = 'system', decided_at = ?, reason = ?
		WHERE kind = 'awaiting_registration' AND status = 'open' AND mutation_id IN
		(SELECT id FROM checkins WHERE walk_in = 1 AND person_kind = 'trainee' AND person_id = ? AND status = 'flagged')`, now, msg, traineeID); err != nil {
		return err
	}
	if _, err := t.exec(`UPDATE mutation_log SET status = 'rejected', code = ?, message = ? WHERE id IN
		(SELECT c.id FROM checkins c WHERE c.walk_in = 1 AND c.person_kind = 'trainee' AND c.person_id = ? AND c.status = 'flagged'
		 AND NOT EXISTS (SELECT 1 FROM flags f WHERE f.mutation_id = c.id AND f.status = 'open'))`, code, msg, traineeID); err != nil {
		return err
	}
	_, err := t.exec(`UPDATE checkins SET status = 'rejected' WHERE walk_in = 1 AND person_kind = 'trainee' AND person_id = ? AND status = 'flagged'
		AND NOT EXISTS (SELECT 1 FROM flags f WHERE f.mutation_id = checkins.id AND f.status = 'open')`, traineeID)
	return err
}

// settleFlagged carries out a decision on flagged mutation mutID (flag
// flagID, already marked with the supervisor's decision). Accepted, the
// mutation takes effect now, so it is first checked against its pusher's
// scope as if it had arrived now (admit): refused, it is rejected
// (out_of_scope or unknown_activity, in the quarantine) and the flag is
// marked rejected by the system with that reason, never applied.
func (t *txc) settleFlagged(act *activity, flagID int64, mutID, kind string, accept bool, reason string) error {
	var isCheckIn bool
	var person, pkind, occ, device, username string
	err := t.QueryRowContext(t.ctx, `SELECT person_kind, person_id, occurred_at, device_id, username FROM checkins WHERE id = ?`, mutID).Scan(&pkind, &person, &occ, &device, &username)
	if err == nil {
		isCheckIn = true
	} else if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if !accept {
		msg := "Rejected by a supervisor"
		if reason != "" {
			msg += ": " + reason
		}
		if _, err := t.exec(`UPDATE mutation_log SET status = 'rejected', code = ?, message = ? WHERE id = ?`, protocol.CodeFlagRejected, msg, mutID); err != nil {
			return err
		}
		if isCheckIn {
			_, err = t.exec(`UPDATE checkins SET status = 'rejected' WHERE id = ?`, mutID)
		} else {
			_, err = t.exec(`UPDATE undo_targets SET status = 'rejected' WHERE undo_id = ?`, mutID)
		}
		return err
	}
	if act == nil {
		return nil
	}
	typ := protocol.TypeCheckIn
	if !isCheckIn {
		typ = protocol.TypeUndo
		if err := t.QueryRowContext(t.ctx, `SELECT username, device_id FROM mutation_log WHERE id = ?`, mutID).Scan(&username, &device); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	pusher, err := t.pusherOf(username, device)
	if err != nil {
		return err
	}
	if o, err := t.admit(pusher, &protocol.Mutation{Type: typ, ActivityID: act.ID}); err != nil {
		return err
	} else if o != nil {
		if !isCheckIn {
			if _, err := t.exec(`UPDATE undo_targets SET status = 'rejected' WHERE undo_id = ?`, mutID); err != nil {
				return err
			}
		}
		return t.refuseHeldMutation(mutID, flagID, *o, isCheckIn)
	}
	if !isCheckIn {
		if _, err := t.exec(`UPDATE undo_targets SET status = 'applied' WHERE undo_id = ?`, mutID); err != nil {
			return err
		}
		_, err = t.exec(`UPDATE mutation_log SET status = 'applied', code = '', message = '' WHERE id = ?`, mutID)
		if err != nil {
			return err
		}
		return t.recomputeUndo(mutID)
	}
	if kind == protocol.FlagLate {
		o, err := store.ParseTime(occ)
		if err != nil {
			return fmt.Errorf("flagged check-in %s: %w", mutID, err)
		}
		if g := t.gate(act, o, false); g.status != "" {
			return t.flag(g.code, mutID, act, device, map[string]any{"person_kind": pkind, "person_id": person, "occurred_at": occ, "activity_date": act.Date})
		}
	}
	if _, err := t.exec(`UPDATE checkins SET status = 'applied' WHERE id = ?`, mutID); err != nil {
		return err
	}
	if _, err := t.exec(`UPDATE mutation_log SET status = 'applied', code = '', message = '' WHERE id = ?`, mutID); err != nil {
		return err
	}
	return t.recompute(act, pkind, person)
}
