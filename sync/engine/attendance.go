package engine

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"prodays"
	"prodays/store"
	"prodays/sync/protocol"
)

// checkIn applies attendance.check_in (sync protocol, Presence).
func (b *batch) checkIn(m *protocol.Mutation, occurred time.Time, capped bool) (outcome, error) {
	t := b.t
	act, o, err := b.admitAttendance(m)
	if err != nil || o != nil {
		return deref(o), err
	}
	personID, o, err := b.resolvePerson(m.Person)
	if err != nil || o != nil {
		return deref(o), err
	}
	status := protocol.StatusApplied
	var held outcome
	walkIn := true // the check-in names a walk-in (migration 00035)
	if personID == "" {
		// A walk-in whose trainee.register has not arrived: hold it.
		personID = m.Person.ID
		held = flagged(protocol.FlagAwaitingRegistration, "Waiting for the registration of walk-in %s.", personID)
	} else {
		held = t.gate(act, occurred, true)
		pr, err := t.person(m.Person.Kind, personID)
		if err != nil {
			return outcome{}, err
		}
		walkIn = pr != nil && pr.WalkIn
	}
	if held.status == "" && !b.st.undone[m.ID] {
		// Fast path, written by flush in multi-row statements: the
		// check-in row, then the presence (the first check-in of a pair
		// without a row), else the full recompute of its pair.
		b.st.queue(pendingCheckIn{act: act, kind: m.Person.Kind, person: personID, args: []any{
			m.ID, act.ID, m.Person.Kind, personID, m.Person.ID, b.req.DeviceID, m.Method, store.FormatTime(m.RecordedAt),
			store.FormatTime(occurred), b.receiptText, status, boolInt(capped), m.Seq, b.p.Username, boolInt(walkIn)}})
		return applied(), nil
	}
	// The slow path writes its row now, before the queued ones: a held
	// check-in does not count; an undone one recomputes its pair, which
	// cannot see the pair's queued check-ins, but the flush recomputes
	// every pair whose presence row is not its queued check-in alone.
	if held.status != "" {
		status = protocol.StatusFlagged
	}
	_, err = t.exec(insertCheckIn+`(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		m.ID, act.ID, m.Person.Kind, personID, m.Person.ID, b.req.DeviceID, m.Method, store.FormatTime(m.RecordedAt),
		store.FormatTime(occurred), b.receiptText, status, boolInt(capped), m.Seq, b.p.Username, boolInt(walkIn))
	if err != nil {
		return outcome{}, fmt.Errorf("insert check-in: %w", err)
	}
	if held.status != "" {
		if err := t.flag(held.code, m.ID, act, b.req.DeviceID, map[string]any{"person_kind": m.Person.Kind, "person_id": personID,
			"occurred_at": store.FormatTime(occurred), "activity_date": act.Date}); err != nil {
			return outcome{}, err
		}
		return held, nil
	}
	// Undone, or a second check-in of a pair in this batch.
	return applied(), t.recompute(act, m.Person.Kind, personID)
}

// pendingCheckIn is a fast-path check-in queued by checkIn: args are its
// checkins row.
type pendingCheckIn struct {
	act          *activity
	kind, person string
	args         []any
}

// checkInCols is the width of a checkins row (pendingCheckIn.args).
const checkInCols = 15

// insertCheckIn is the insert of checkins rows, up to its VALUES.
const insertCheckIn = `INSERT INTO checkins (id, activity_id, person_kind, person_id, original_person_id, device_id, method, recorded_at, occurred_at, received_at, status, occurred_capped, seq, username, walk_in) VALUES `

// admitAttendance returns the activity of attendance mutation m when its
// pusher may record there (admit), or admit's rejection.
func (b *batch) admitAttendance(m *protocol.Mutation) (*activity, *outcome, error) {
	if o, err := b.t.admit(b.p, m); err != nil || o != nil {
		return nil, o, err
	}
	act, err := b.t.activity(m.ActivityID)
	return act, nil, err
}

func deref(o *outcome) outcome {
	if o == nil {
		return outcome{}
	}
	return *o
}

// resolvePerson checks the person of a check-in or undo. It returns the
// person id to store (following merges), or "" for an unknown walk-in UUID
// (to be held), or a rejection.
func (b *batch) resolvePerson(pr *protocol.Person) (string, *outcome, error) {
	t := b.t
	if pr.Kind == prodays.PersonSpeaker {
		sp, err := t.person(pr.Kind, pr.ID)
		if err != nil {
			return "", nil, err
		}
		if sp == nil {
			o := rejected(protocol.CodeUnknownSpeaker, "No speaker %q.", pr.ID)
			return "", &o, nil
		}
		return pr.ID, nil, nil
	}
	tr, err := t.resolveTrainee(pr.ID)
	if err != nil {
		return "", nil, err
	}
	if tr != nil {
		return tr.ID, nil, nil
	}
	if !protocol.IsUUID(pr.ID) {
		o := rejected(protocol.CodeUnknownTrainee, "No trainee with matricule %q.", pr.ID)
		return "", &o, nil
	}
	var code, msg string
	err = t.QueryRowContext(t.ctx, `SELECT code, message FROM refused_registrations WHERE trainee_id = ?`, pr.ID).Scan(&code, &msg)
	if err == nil {
		o := rejected(code, "%s", msg)
		return "", &o, nil
	}
	return "", nil, nil
}

// gate decides whether an attendance mutation at a applies now or waits
// for a supervisor: late when the activity is closed (when checkClosed),
// out of window when occurred is outside the activity's date ± 1 day. The
// zero outcome means apply.
func (t *txc) gate(a *activity, occurred time.Time, checkClosed bool) outcome {
	if checkClosed && a.closed() {
		return flagged(protocol.FlagLate, "Activity %s is closed: a supervisor will decide.", a.ID)
	}
	if !occurred.IsZero() && !protocol.InWindow(occurred, a.Date, prodays.Casablanca) {
		return flagged(protocol.FlagOutOfWindow, "Recorded on %s, outside the activity's date %s ± 1 day: a supervisor will decide.",
			protocol.LocalDay(occurred, prodays.Casablanca), a.Date)
	}
	return outcome{}
}

// flag opens a flag of kind for a mutation.
func (t *txc) flag(kind, mutationID string, a *activity, deviceID string, detail map[string]any) error {
	d, _ := json.Marshal(detail)
	_, err := t.exec(`INSERT INTO flags (kind, mutation_id, activity_id, device_id, region_code, detail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		kind, mutationID, a.ID, deviceID, a.Region, string(d), store.FormatTime(t.now))
	if err != nil {
		return fmt.Errorf("flag %s: %w", kind, err)
	}
	return nil
}

// undo applies attendance.undo: its targets wait in undo_targets for
// check-ins not yet arrived (observed-remove set).
func (b *batch) undo(m *protocol.Mutation, occurred time.Time) (outcome, error) {
	t := b.t
	act, o, err := b.admitAttendance(m)
	if err != nil || o != nil {
		return deref(o), err
	}
	personID, o, err := b.resolvePerson(m.Person)
	if err != nil {
		return outcome{}, err
	}
	if o != nil && !(m.Person.Kind == prodays.PersonTrainee && protocol.IsUUID(m.Person.ID)) {
		return *o, nil
	}
	if personID == "" {
		personID = m.Person.ID
	}
	status := protocol.StatusApplied
	held := outcome{}
	if act.closed() {
		held = flagged(protocol.FlagLate, "Activity %s is closed: a supervisor will decide.", act.ID)
		status = protocol.StatusFlagged
	}
	for _, id := range m.Undoes {
		b.st.undone[id] = true
		if _, err := t.exec(`INSERT OR IGNORE INTO undo_targets (undo_id, checkin_id, activity_id, person_kind, person_id, status) VALUES (?, ?, ?, ?, ?, ?)`,
			m.ID, id, act.ID, m.Person.Kind, personID, status); err != nil {
			return outcome{}, fmt.Errorf("insert undo target: %w", err)
		}
	}
	if held.status != "" {
		return held, t.flag(held.code, m.ID, act, b.req.DeviceID, map[string]any{"person_kind": m.Person.Kind, "person_id": personID, "undoes": m.Undoes})
	}
	return applied(), t.recomputeUndo(m.ID)
}

// recomputeUndo recomputes the presence of every pair whose check-ins undo
// undoID names (those arrived so far).
func (t *txc) recomputeUndo(undoID string) error {
	type pair struct{ a, k, p string }
	ps, err := store.Query(t.ctx, t, func(s store.Scanner) (pair, error) {
		var p pair
		err := s.Scan(&p.a, &p.k, &p.p)
		return p, err
	}, `SELECT DISTINCT c.activity_id, c.person_kind, c.person_id FROM undo_targets u
		JOIN checkins c ON c.id = u.checkin_id AND c.activity_id = u.activity_id WHERE u.undo_id = ?`, undoID)
	if err != nil {
		return fmt.Errorf("undo pairs: %w", err)
	}
	for _, p := range ps {
		act, err := t.activity(p.a)
		if err != nil {
			return err
		}
		if act == nil {
			continue
		}
		if err := t.recompute(act, p.k, p.p); err != nil {
			return err
		}
	}
	return nil
}

// recomputeSQL materialises the presence of one (activity, person) in one
// statement (protocol.Presence in SQL): the applied check-ins not named by
// an applied undo survive; the override wins; the row changes only when
// something differs (so that unchanged rows record no change). A pair
// without surviving check-ins and without a row gets no row.
const recomputeSQL = `INSERT INTO attendance (activity_id, person_kind, person_id, present, checked_in_at, check_in_ids, updated_at)
SELECT ?1, ?2, ?3,
  CASE (SELECT override FROM attendance WHERE activity_id = ?1 AND person_kind = ?2 AND person_id = ?3)
    WHEN 'present' THEN 1 WHEN 'absent' THEN 0 ELSE count(s.id) > 0 END,
  min(s.occurred_at),
  json_group_array(s.id ORDER BY s.occurred_at, s.id) FILTER (WHERE s.id IS NOT NULL),
  ?4
FROM (SELECT c.id, c.occurred_at FROM checkins c
      WHERE c.activity_id = ?1 AND c.person_kind = ?2 AND c.person_id = ?3 AND c.status = 'applied'
        AND NOT EXISTS (SELECT 1 FROM undo_targets u WHERE u.checkin_id = c.id AND u.activity_id = c.activity_id AND u.status = 'applied')) s
WHERE true
HAVING count(s.id) > 0 OR EXISTS (SELECT 1 FROM attendance WHERE activity_id = ?1 AND person_kind = ?2 AND person_id = ?3)
ON CONFLICT (activity_id, person_kind, person_id) DO UPDATE SET
  present = excluded.present, checked_in_at = excluded.checked_in_at, check_in_ids = excluded.check_in_ids, updated_at = excluded.updated_at
WHERE attendance.present IS NOT excluded.present OR attendance.checked_in_at IS NOT excluded.checked_in_at
   OR attendance.check_in_ids IS NOT excluded.check_in_ids
RETURNING present, check_in_ids, override IS NOT NULL`

// recompute materialises the presence of (a, kind, personID) and records
// a change when the row changed. A row left with no surviving check-in and
// no override is deleted (and the delete recorded), so that the table does
// not depend on whether an undo arrived before or after its check-in.
func (t *txc) recompute(a *activity, kind, personID string) error {
	op, err := t.recomputeRow(a, kind, personID)
	if err != nil || op == "" {
		return err
	}
	return t.attendanceChange(a, kind, personID, op)
}

// recomputeRow is recompute without the change log: it returns the op to
// record ("upsert", "delete"), or "" when the row did not change.
func (t *txc) recomputeRow(a *activity, kind, personID string) (string, error) {
	var present, overridden bool
	var ids string
	err := t.QueryRowContext(t.ctx, recomputeSQL, a.ID, kind, personID, store.FormatTime(t.now)).Scan(&present, &ids, &overridden)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil // unchanged
	} else if err != nil {
		return "", fmt.Errorf("recompute presence %s %s: %w", a.ID, personID, err)
	}
	if !present && !overridden && ids == "[]" {
		if _, err := t.exec(`DELETE FROM attendance WHERE activity_id = ? AND person_kind = ? AND person_id = ?`, a.ID, kind, personID); err != nil {
			return "", err
		}
		return "delete", nil
	}
	return "upsert", nil
}

// attendanceChange records a change of the presence (a, kind, personID):
// an upsert on the row itself (its seq), a delete in the change log.
func (t *txc) attendanceChange(a *activity, kind, personID, op string) error {
	c := attendanceChangeOf(a, kind, personID, op)
	if op == "upsert" {
		return store.TouchAttendance(t.ctx, t, c, a.ID, kind, personID)
	}
	return store.RecordChange(t.ctx, t, c)
}

func attendanceChangeOf(a *activity, kind, personID, op string) store.Change {
	return store.Change{Entity: "attendance", ID: protocol.AttendanceID(a.ID, kind, personID), Op: op,
		RegionCode: a.Region, EstablishmentCode: a.Establishment}
}
