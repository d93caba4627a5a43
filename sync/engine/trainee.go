package engine

import (
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"prodays"
	"prodays/store"
	"prodays/sync/protocol"
)

// traineeColumn maps an import-file field name to its trainees column.
var traineeColumn = map[string]string{
	"last_name": "last_name", "first_name": "first_name", "establishment_code": "establishment_code",
	"program": "program", "group": "group_name", "gender": "gender",
}

// register applies trainee.register: a walk-in stored under the phone's
// UUID, proposed for merging when it looks like another trainee, and the
// check-ins held for it released.
func (b *batch) register(m *protocol.Mutation, occurred time.Time) (outcome, error) {
	t := b.t
	tr := m.Trainee
	refuse := func(o outcome) (outcome, error) {
		if _, err := t.exec(`INSERT OR IGNORE INTO refused_registrations (trainee_id, mutation_id, code, message) VALUES (?, ?, ?, ?)`,
			tr.ID, m.ID, o.code, o.message); err != nil {
			return outcome{}, err
		}
		if _, err := t.exec(`UPDATE mutation_log SET status = 'rejected', code = ?, message = ? WHERE id IN (SELECT mutation_id FROM flags
			WHERE kind = 'awaiting_registration' AND status = 'open' AND activity_id IS NULL AND detail->>'trainee_id' = ?)`, o.code, o.message, tr.ID); err != nil {
			return outcome{}, err
		}
		if _, err := t.exec(`UPDATE flags SET status = 'rejected', decided_by = 'system', decided_at = ?, reason = ?
			WHERE kind = 'awaiting_registration' AND status = 'open' AND activity_id IS NULL AND detail->>'trainee_id' = ?`, store.FormatTime(t.now), o.message, tr.ID); err != nil {
			return outcome{}, err
		}
		return o, t.refuseHeld(tr.ID, o.code, o.message)
	}
	if o, err := t.admit(b.p, m); err != nil {
		return outcome{}, err
	} else if o != nil {
		return refuse(*o)
	}
	region, _, err := t.establishmentRegion(tr.EstablishmentCode)
	if err != nil {
		return outcome{}, err
	}
	if p, err := t.person(prodays.PersonTrainee, tr.ID); err != nil {
		return outcome{}, err
	} else if p != nil {
		return rejected(protocol.CodeTraineeExists, "Trainee %s is already registered.", tr.ID), nil
	}
	_, err = t.exec(`INSERT INTO trainees (id, last_name, first_name, establishment_code, program, group_name, gender, source, version, registered_by, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, 'walk_in', 1, ?, ?)`,
		tr.ID, tr.LastName, tr.FirstName, tr.EstablishmentCode, tr.Program, tr.Group, tr.Gender, m.ID, store.FormatTime(t.now))
	if err != nil {
		return outcome{}, fmt.Errorf("insert walk-in: %w", err)
	}
	t.forget(prodays.PersonTrainee, tr.ID)
	if err := store.RecordChange(t.ctx, t, store.Change{Entity: "trainee", ID: tr.ID, Op: "upsert", RegionCode: region, EstablishmentCode: tr.EstablishmentCode}); err != nil {
		return outcome{}, err
	}
	if err := t.refreshProposals(tr.ID); err != nil {
		return outcome{}, err
	}
	if err := t.releaseHeld(tr.ID); err != nil {
		return outcome{}, err
	}
	return applied(), b.releaseHeldUpdates(tr.ID)
}

// releaseHeldUpdates lets the trainee.update mutations held for walk-in
// id take effect now that it is registered, in the order they arrived:
// each is checked against its pusher's scope as if it had arrived last
// (admit: refused out_of_scope or unknown_establishment, never applied),
// else applied as it would have been on arrival.
func (b *batch) releaseHeldUpdates(id string) error {
	t := b.t
	type held struct {
		flag                           int64
		id, payload, occ, device, user string
	}
	hs, err := store.Query(t.ctx, t, func(s store.Scanner) (held, error) {
		var h held
		err := s.Scan(&h.flag, &h.id, &h.payload, &h.occ, &h.device, &h.user)
		return h, err
	}, `SELECT f.id, m.id, m.payload, m.occurred_at, m.device_id, m.username FROM flags f JOIN mutation_log m ON m.id = f.mutation_id
		WHERE f.kind = 'awaiting_registration' AND f.status = 'open' AND f.activity_id IS NULL AND f.detail->>'trainee_id' = ? ORDER BY f.id`, id)
	if err != nil {
		return fmt.Errorf("held updates: %w", err)
	}
	pushers := map[string]*prodays.Principal{}
	for _, h := range hs {
		m := protocol.DecodeMutation([]byte(h.payload))
		if m.Invalid != nil || m.Type != protocol.TypeTraineeUpdate || m.BaseVersion == nil {
			// Not what was held (it was valid when it arrived): refused, never applied.
			if err := t.refuseHeldMutation(h.id, h.flag, rejected(protocol.CodeInvalidMutation, "The held correction can no longer be read."), false); err != nil {
				return err
			}
			continue
		}
		p := pushers[h.user+"\x00"+h.device]
		if p == nil {
			if p, err = t.pusherOf(h.user, h.device); err != nil {
				return err
			}
			pushers[h.user+"\x00"+h.device] = p
		}
		if ok, err := t.admitHeld(p, &m, h.id, h.flag, false); err != nil {
			return err
		} else if !ok {
			continue
		}
		occ, err := store.ParseTime(h.occ)
		if err != nil {
			return fmt.Errorf("held update %s: %w", h.id, err)
		}
		st := protocol.Stamp{OccurredAt: occ, DeviceID: h.device, MutationID: m.ID}
		if err := t.applyUpdate(id, &m, st); err != nil {
			return err
		}
		if err := t.settleHeldOutcome(h.id, applied()); err != nil {
			return err
		}
	}
	return nil
}

// applyUpdate writes the fields of admitted correction m to trainee id
// with stamp st (each a last-writer-wins register), bumps its version and
// refreshes its merge proposals when its names changed.
func (t *txc) applyUpdate(id string, m *protocol.Mutation, st protocol.Stamp) error {
	for _, f := range slices.Sorted(maps.Keys(m.Fields)) {
		if err := t.writeField(id, f, m.Fields[f], st, *m.BaseVersion); err != nil {
			return err
		}
	}
	if err := t.bumpTrainee(id); err != nil {
		return err
	}
	if namesChanged(m.Fields) {
		return t.refreshProposals(id)
	}
	return nil
}

// namesChanged reports whether a correction touches what merge proposals
// compare (names, establishment).
func namesChanged(fields map[string]string) bool {
	_, l := fields["last_name"]
	_, f := fields["first_name"]
	_, e := fields["establishment_code"]
	return l || f || e
}

// refreshProposals makes the open merge proposals involving trainee id
// those its current names call for: a walk-in is proposed for merging with
// the trainees of its establishment, and the roster trainees of its
// region, that have the same normalised names. Between two walk-ins the
// proposal is oriented by id (the greater merges into the smaller). It is
// called whenever a trainee's names may have changed, so that the open
// proposals depend on the final names only, not on the arrival order.
func (t *txc) refreshProposals(id string) error {
	if _, err := t.exec(`DELETE FROM merge_proposals WHERE status = 'open' AND (walk_in_id = ? OR candidate_id = ?)`, id, id); err != nil {
		return err
	}
	var last, first, est, region, source string
	var deleted bool
	err := t.QueryRowContext(t.ctx, `SELECT t.last_name, t.first_name, t.establishment_code, e.region_code, t.source, t.deleted FROM trainees t
		JOIN establishments e ON e.code = t.establishment_code WHERE t.id = ?`, id).Scan(&last, &first, &est, &region, &source, &deleted)
	if errors.Is(err, sql.ErrNoRows) || deleted {
		return nil
	} else if err != nil {
		return err
	}
	key := protocol.PersonKey(last, first)
	// A walk-in meets its establishment's trainees and the region's roster;
	// a roster trainee meets the region's walk-ins.
	q := `SELECT t.id, t.last_name, t.first_name, t.establishment_code, t.source FROM trainees t
		JOIN establishments e ON e.code = t.establishment_code
		WHERE e.region_code = ? AND t.deleted = 0 AND t.id <> ? AND (t.establishment_code = ? OR t.source = 'roster')`
	if source == "roster" {
		q = `SELECT t.id, t.last_name, t.first_name, t.establishment_code, t.source FROM trainees t
		JOIN establishments e ON e.code = t.establishment_code
		WHERE e.region_code = ? AND t.deleted = 0 AND t.id <> ? AND t.source = 'walk_in' AND ? <> ''`
	}
	rows, err := t.QueryContext(t.ctx, q, region, id, est)
	if err != nil {
		return fmt.Errorf("merge candidates: %w", err)
	}
	type proposal struct{ walkIn, cand, reason string }
	var ps []proposal
	for rows.Next() {
		var oid, ol, of, oest, osrc string
		if err := rows.Scan(&oid, &ol, &of, &oest, &osrc); err != nil {
			rows.Close()
			return err
		}
		if protocol.PersonKey(ol, of) != key {
			continue
		}
		walk, cand, walkEst, candEst := id, oid, est, oest
		if source == "roster" {
			walk, cand, walkEst, candEst = oid, id, oest, est
		}
		var reason string
		switch {
		case source == "roster" || osrc == "roster":
			if walkEst == candEst {
				reason = "same establishment and names as a roster trainee"
			} else {
				reason = "same names as a roster trainee of the region"
			}
		default:
			if cand > walk {
				walk, cand = cand, walk
			}
			reason = "same establishment and names as another walk-in"
		}
		ps = append(ps, proposal{walk, cand, reason})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, p := range ps {
		if _, err := t.exec(`INSERT OR IGNORE INTO merge_proposals (walk_in_id, candidate_id, reason, region_code, created_at) VALUES (?, ?, ?, ?, ?)`,
			p.walkIn, p.cand, p.reason, region, store.FormatTime(t.now)); err != nil {
			return fmt.Errorf("merge proposal: %w", err)
		}
	}
	return nil
}

// update applies trainee.update: each field is a last-writer-wins register
// ordered by (occurred_at, device_id, mutation id); different values from
// the same base_version are recorded as conflicts, the winner applied.
func (b *batch) update(m *protocol.Mutation, occurred time.Time) (outcome, error) {
	t := b.t
	if o, err := t.admit(b.p, m); err != nil || o != nil {
		return deref(o), err
	}
	tr, err := t.resolveTrainee(m.TraineeID)
	if err != nil {
		return outcome{}, err
	}
	if tr == nil && protocol.IsUUID(m.TraineeID) {
		// A correction of a walk-in whose registration has not arrived
		// (a later batch first): held like its check-ins.
		var code, msg string
		if err := t.QueryRowContext(t.ctx, `SELECT code, message FROM refused_registrations WHERE trainee_id = ?`, m.TraineeID).Scan(&code, &msg); err == nil {
			return rejected(code, "%s", msg), nil
		}
		if _, err := t.exec(`INSERT INTO flags (kind, mutation_id, device_id, region_code, detail, created_at) VALUES ('awaiting_registration', ?, ?, ?, json_object('trainee_id', ?), ?)`,
			m.ID, b.req.DeviceID, b.p.RegionCode, m.TraineeID, store.FormatTime(t.now)); err != nil {
			return outcome{}, err
		}
		return flagged(protocol.FlagAwaitingRegistration, "Waiting for the registration of walk-in %s.", m.TraineeID), nil
	}
	if tr == nil {
		return rejected(protocol.CodeUnknownTrainee, "No trainee %q.", m.TraineeID), nil
	}
	st := protocol.Stamp{OccurredAt: occurred, DeviceID: b.req.DeviceID, MutationID: m.ID}
	return applied(), t.applyUpdate(tr.ID, m, st)
}

// writeField records one write of a trainee field, applies it when it
// wins, and refreshes the conflicts of its base_version.
func (t *txc) writeField(traineeID, field, value string, st protocol.Stamp, base int64) error {
	occ := store.FormatTime(st.OccurredAt)
	if _, err := t.exec(`INSERT OR IGNORE INTO trainee_field_writes (trainee_id, field, value, occurred_at, device_id, mutation_id, base_version)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, traineeID, field, value, occ, st.DeviceID, st.MutationID, base); err != nil {
		return fmt.Errorf("field write: %w", err)
	}
	var cur protocol.Stamp
	var curOcc string
	err := t.QueryRowContext(t.ctx, `SELECT occurred_at, device_id, mutation_id FROM trainee_field_stamps WHERE trainee_id = ? AND field = ?`,
		traineeID, field).Scan(&curOcc, &cur.DeviceID, &cur.MutationID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if err == nil {
		if cur.OccurredAt, err = store.ParseTime(curOcc); err != nil {
			return fmt.Errorf("stamp of %s %s: %w", traineeID, field, err)
		}
	}
	if errors.Is(err, sql.ErrNoRows) || st.After(cur) {
		if _, err := t.exec(`INSERT OR REPLACE INTO trainee_field_stamps (trainee_id, field, value, occurred_at, device_id, mutation_id, base_version)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, traineeID, field, value, occ, st.DeviceID, st.MutationID, base); err != nil {
			return err
		}
		if _, err := t.exec(`UPDATE trainees SET `+traineeColumn[field]+` = ? WHERE id = ?`, value, traineeID); err != nil {
			return fmt.Errorf("set %s: %w", field, err)
		}
	}
	return t.refreshConflicts(traineeID, field, base)
}

// refreshConflicts makes the open conflicts of (trainee, field,
// base_version) those between the group's winner and each write with a
// different value, whatever the order the writes arrived in.
func (t *txc) refreshConflicts(traineeID, field string, base int64) error {
	rows, err := t.QueryContext(t.ctx, `SELECT value, occurred_at, device_id, mutation_id FROM trainee_field_writes
		WHERE trainee_id = ? AND field = ? AND base_version = ?`, traineeID, field, base)
	if err != nil {
		return err
	}
	type write struct {
		value string
		st    protocol.Stamp
	}
	var ws []write
	for rows.Next() {
		var w write
		var occ string
		if err := rows.Scan(&w.value, &occ, &w.st.DeviceID, &w.st.MutationID); err != nil {
			rows.Close()
			return err
		}
		if w.st.OccurredAt, err = store.ParseTime(occ); err != nil {
			rows.Close()
			return fmt.Errorf("write %s of %s %s: %w", w.st.MutationID, traineeID, field, err)
		}
		ws = append(ws, w)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(ws) < 2 {
		return err
	}
	win := ws[0]
	for _, w := range ws[1:] {
		if w.st.After(win.st) {
			win = w
		}
	}
	// The conflict's region is its trainee's: a conflict without one would
	// reach no supervisor, so a failed lookup fails the batch.
	var region string
	if err := t.QueryRowContext(t.ctx, `SELECT e.region_code FROM trainees tr JOIN establishments e ON e.code = tr.establishment_code WHERE tr.id = ?`, traineeID).Scan(&region); err != nil {
		return fmt.Errorf("conflict region of trainee %s: %w", traineeID, err)
	}
	if _, err := t.exec(`DELETE FROM conflicts WHERE trainee_id = ? AND field = ? AND base_version = ? AND status = 'open' AND winner_mutation_id <> ?`,
		traineeID, field, base, win.st.MutationID); err != nil {
		return err
	}
	for _, w := range ws {
		if w.st.MutationID == win.st.MutationID || w.value == win.value {
			continue
		}
		if _, err := t.exec(`INSERT OR IGNORE INTO conflicts (trainee_id, field, base_version, winner_mutation_id, winner_value, loser_mutation_id, loser_value, region_code, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, traineeID, field, base, win.st.MutationID, win.value, w.st.MutationID, w.value, region, store.FormatTime(t.now)); err != nil {
			return fmt.Errorf("conflict: %w", err)
		}
	}
	return nil
}

// bumpTrainee counts one more accepted change of the trainee (its version,
// the base_version of the next correction) and records a change with the
// trainee's current scope keys.
func (t *txc) bumpTrainee(id string) error {
	if _, err := t.exec(`UPDATE trainees SET version = version + 1, updated_at = ? WHERE id = ?`, store.FormatTime(t.now), id); err != nil {
		return err
	}
	t.forget(prodays.PersonTrainee, id)
	var est, region string
	var deleted bool
	if err := t.QueryRowContext(t.ctx, `SELECT t.establishment_code, e.region_code, t.deleted FROM trainees t JOIN establishments e ON e.code = t.establishment_code WHERE t.id = ?`, id).
		Scan(&est, &region, &deleted); err != nil {
		return err
	}
	op := "upsert"
	if deleted {
		op = "delete"
	}
	return store.RecordChange(t.ctx, t, store.Change{Entity: "trainee", ID: id, Op: op, RegionCode: region, EstablishmentCode: est})
}
