package engine

import (
	"database/sql"
	"errors"
	"fmt"
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
		return o, t.refuseHeld(tr.ID, o.code, o.message)
	}
	var region string
	err := t.QueryRowContext(t.ctx, `SELECT region_code FROM establishments WHERE code = ?`, tr.EstablishmentCode).Scan(&region)
	if errors.Is(err, sql.ErrNoRows) {
		return refuse(rejected(protocol.CodeUnknownEstablishment, "No establishment %q.", tr.EstablishmentCode))
	} else if err != nil {
		return outcome{}, err
	}
	ok := false
	switch b.p.Role {
	case prodays.RoleAdmin:
		ok = true
	case prodays.RoleSupervisor:
		ok = region == b.p.RegionCode
	case prodays.RoleStaff:
		ok = tr.EstablishmentCode == b.p.EstablishmentCode
	}
	if !ok {
		return refuse(rejected(protocol.CodeWalkInRefused, "You may not register walk-ins for establishment %s.", tr.EstablishmentCode))
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
	if err := t.proposeMerges(tr.ID, tr.LastName, tr.FirstName, tr.EstablishmentCode, region); err != nil {
		return outcome{}, err
	}
	return applied(), t.releaseHeld(tr.ID)
}

// proposeMerges proposes walk-in id for merging with the trainees of its
// establishment, and the roster trainees of its region, that have the same
// normalised names. Between two walk-ins the proposal is oriented by id
// (the greater merges into the smaller), so that it does not depend on
// which registration arrived first.
func (t *txc) proposeMerges(id, last, first, est, region string) error {
	key := protocol.PersonKey(last, first)
	rows, err := t.QueryContext(t.ctx, `SELECT t.id, t.last_name, t.first_name, t.establishment_code, t.source FROM trainees t
		JOIN establishments e ON e.code = t.establishment_code
		WHERE e.region_code = ? AND t.deleted = 0 AND t.id <> ? AND (t.establishment_code = ? OR t.source = 'roster')`, region, id, est)
	if err != nil {
		return fmt.Errorf("merge candidates: %w", err)
	}
	type cand struct{ id, reason, walkIn string }
	var cs []cand
	for rows.Next() {
		var cid, cl, cf, cest, src string
		if err := rows.Scan(&cid, &cl, &cf, &cest, &src); err != nil {
			rows.Close()
			return err
		}
		if protocol.PersonKey(cl, cf) != key {
			continue
		}
		switch {
		case src == "roster" && cest == est:
			cs = append(cs, cand{cid, "same establishment and names as a roster trainee", id})
		case src == "roster":
			cs = append(cs, cand{cid, "same names as a roster trainee of the region", id})
		default:
			w, c := id, cid
			if c > w {
				w, c = c, w
			}
			cs = append(cs, cand{c, "same establishment and names as another walk-in", w})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, c := range cs {
		if _, err := t.exec(`INSERT OR IGNORE INTO merge_proposals (walk_in_id, candidate_id, reason, region_code, created_at) VALUES (?, ?, ?, ?, ?)`,
			c.walkIn, c.id, c.reason, region, store.FormatTime(t.now)); err != nil {
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
	tr, err := t.resolveTrainee(m.TraineeID)
	if err != nil {
		return outcome{}, err
	}
	if tr == nil {
		return rejected(protocol.CodeUnknownTrainee, "No trainee %q.", m.TraineeID), nil
	}
	if b.p.Role != prodays.RoleAdmin && (b.p.RegionCode == "" || tr.Region != b.p.RegionCode) {
		return rejected(protocol.CodeOutOfScope, "Trainee %s is outside your scope.", tr.ID), nil
	}
	if est, ok := m.Fields["establishment_code"]; ok {
		var region string
		err := t.QueryRowContext(t.ctx, `SELECT region_code FROM establishments WHERE code = ?`, est).Scan(&region)
		if errors.Is(err, sql.ErrNoRows) {
			return rejected(protocol.CodeUnknownEstablishment, "No establishment %q.", est), nil
		} else if err != nil {
			return outcome{}, err
		}
		if b.p.Role != prodays.RoleAdmin && region != b.p.RegionCode {
			return rejected(protocol.CodeOutOfScope, "Establishment %s is outside your scope.", est), nil
		}
	}
	st := protocol.Stamp{OccurredAt: occurred, DeviceID: b.req.DeviceID, MutationID: m.ID}
	for _, f := range sortedKeys(m.Fields) {
		if err := t.writeField(tr.ID, f, m.Fields[f], st, *m.BaseVersion); err != nil {
			return outcome{}, err
		}
	}
	if err := t.bumpTrainee(tr.ID); err != nil {
		return outcome{}, err
	}
	return applied(), nil
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
		cur.OccurredAt, _ = time.Parse(time.RFC3339Nano, curOcc)
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
		w.st.OccurredAt, _ = time.Parse(time.RFC3339Nano, occ)
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
	var region sql.NullString
	_ = t.QueryRowContext(t.ctx, `SELECT e.region_code FROM trainees tr JOIN establishments e ON e.code = tr.establishment_code WHERE tr.id = ?`, traineeID).Scan(&region)
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
