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
	pair := protocol.AttendanceID(act.ID, m.Person.Kind, personID)
	if held.status == "" && !b.undone[m.ID] && !b.pendingPairs[pair] {
		// Fast path, written by flush in multi-row statements: the
		// check-in row, then the presence (the first check-in of a pair
		// without a row), else the full recompute of its pair.
		b.pendingIns = append(b.pendingIns, pendingCheckIn{act: act, kind: m.Person.Kind, person: personID, args: []any{
			m.ID, act.ID, m.Person.Kind, personID, m.Person.ID, b.req.DeviceID, m.Method, store.FormatTime(m.RecordedAt),
			store.FormatTime(occurred), b.receiptText, status, boolInt(capped), m.Seq, b.p.Username, boolInt(walkIn)}})
		if b.pendingPairs == nil {
			b.pendingPairs = map[string]bool{}
		}
		b.pendingPairs[pair] = true
		return applied(), nil
	}
	// The slow path reads and writes the tables the pending rows go to.
	if err := b.flush(); err != nil {
		return outcome{}, err
	}
	if held.status != "" {
		status = protocol.StatusFlagged
	}
	_, err = t.exec(`INSERT INTO checkins (id, activity_id, person_kind, person_id, original_person_id, device_id, method, recorded_at, occurred_at, received_at, status, occurred_capped, seq, username, walk_in)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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

// flush writes the queued rows in multi-row statements, in the order the
// mutations were applied one by one: the check-ins, then their presences
// (a pair without a row has no surviving check-in, the table's invariant,
// so with this check-in not undone its presence is this check-in alone;
// an existing row, an earlier check-in or an override, makes the insert a
// no-op and the pair is recomputed) with their changes, the mutation rows.
// The queued pairs are distinct and none is undone, so each sees what it
// would have seen applied alone. It runs before anything that reads those
// tables (any other mutation, a slow-path check-in) and before commit.
func (b *batch) flush() error {
	t := b.t
	if len(b.pendingIns) > 0 {
		ins := b.pendingIns
		b.pendingIns, b.pendingPairs = b.pendingIns[:0], nil
		if err := b.flushCheckIns(ins); err != nil {
			return err
		}
	}
	if len(b.pendingMuts) > 0 {
		args := b.pendingMuts
		b.pendingMuts = b.pendingMuts[:0]
		if err := t.insertRows(`INSERT OR IGNORE INTO mutation_log (id, device_id, username, seq, type, status, code, message, recorded_at, occurred_at, received_at, payload, occurred_capped) VALUES `,
			`(?,?,?,?,?,?,?,?,?,?,?,?,?)`, ``, mutationCols, args, nil); err != nil {
			return fmt.Errorf("record mutation: %w", err)
		}
	}
	return nil
}

// flushCheckIns writes the queued fast-path check-ins: their checkins rows
// in multi-row statements, then their presences in one INSERT ... SELECT
// over those rows (the checkins rowids after the table's last one before
// them: one writer, no gaps), so that the values are bound once; each
// presence carries its change as a reserved seq (migration 00034). A pair
// the presence insert leaves out (a row exists: an earlier check-in or an
// override) is recomputed, and its change recorded, one by one.
func (b *batch) flushCheckIns(ins []pendingCheckIn) error {
	t := b.t
	var last int64
	if err := t.QueryRowContext(t.ctx, `SELECT COALESCE(max(rowid), 0) FROM checkins`).Scan(&last); err != nil {
		return fmt.Errorf("check-ins: %w", err)
	}
	args := make([]any, 0, len(ins)*checkInCols)
	for _, p := range ins {
		args = append(args, p.args...)
	}
	if err := t.insertRows(`INSERT INTO checkins (id, activity_id, person_kind, person_id, original_person_id, device_id, method, recorded_at, occurred_at, received_at, status, occurred_capped, seq, username, walk_in) VALUES `,
		`(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, ``, checkInCols, args, nil); err != nil {
		return fmt.Errorf("insert check-ins: %w", err)
	}
	var first, n int64
	if err := t.QueryRowContext(t.ctx, `SELECT COALESCE(min(rowid), 0), count(*) FROM checkins WHERE rowid > ?`, last).Scan(&first, &n); err != nil {
		return fmt.Errorf("check-ins: %w", err)
	}
	if first != last+1 || n != int64(len(ins)) {
		return fmt.Errorf("check-ins: rowids %d.. (%d rows) after %d, want %d rows", first, n, last, len(ins))
	}
	// checked_in_at is the occurred_at, check_in_ids the id; the change
	// is the row's seq, one reserved value per check-in, in order.
	seq0, err := store.NextSeqs(t.ctx, t, len(ins))
	if err != nil {
		return err
	}
	res, err := t.exec(`INSERT INTO attendance (activity_id, person_kind, person_id, present, checked_in_at, check_in_ids, updated_at, seq)
		SELECT activity_id, person_kind, person_id, 1, occurred_at, json_array(id), ?2, ?3 + rowid - ?1 - 1 FROM checkins WHERE rowid > ?1 ORDER BY rowid
		ON CONFLICT DO NOTHING`, last, store.FormatTime(t.now), seq0)
	if err != nil {
		return fmt.Errorf("presence: %w", err)
	}
	created, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("presence: %w", err)
	}
	if created == int64(len(ins)) {
		return nil // every pair got its row, and with it its change
	}
	// The pairs left out: a row that is not this check-in alone.
	ids, err := store.Query(t.ctx, t, func(s store.Scanner) (string, error) {
		var a, k, p string
		err := s.Scan(&a, &k, &p)
		return protocol.AttendanceID(a, k, p), err
	}, `SELECT c.activity_id, c.person_kind, c.person_id FROM checkins c
		JOIN attendance a ON a.activity_id = c.activity_id AND a.person_kind = c.person_kind AND a.person_id = c.person_id
		WHERE c.rowid > ? AND a.check_in_ids <> json_array(c.id)`, last)
	if err != nil {
		return fmt.Errorf("presence: %w", err)
	}
	existed := map[string]bool{}
	for _, id := range ids {
		existed[id] = true
	}
	for _, p := range ins {
		if existed[protocol.AttendanceID(p.act.ID, p.kind, p.person)] {
			if err := t.recompute(p.act, p.kind, p.person); err != nil {
				return err
			}
		}
	}
	return nil
}

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
		b.undone[id] = true
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
