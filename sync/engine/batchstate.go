package engine

import (
	"database/sql"
	"fmt"
	"maps"
	"slices"

	"prodays"
	"prodays/store"
	"prodays/sync/protocol"
)

// applyState is what the batches applied in one write transaction share
// (issue #17): which mutation ids were seen, each device's used seqs, the
// check-ins an undo names, and the rows not written yet. A lone push has
// its own; the batches of a group (group.go) share one, so that they are
// preloaded in one set of queries and their rows written in one flush at
// the end of the group, as one batch of all their mutations would be,
// while each batch keeps its own receipt time, results and device row.
type applyState struct {
	// seen is the first outcome of each mutation id already received:
	// stored before the transaction, or applied earlier in it (Device is
	// then the device of the batch that applied it).
	seen map[string]seen
	// seqs holds, by device, the seqs it already used and their
	// mutation ids (those of the transaction's batches, and those stored
	// before up to the device's max_seq that a batch asked about).
	seqs map[string]map[int64]string
	// undone holds the check-in ids named by an undo (stored before, or
	// applied in the transaction): those never take the presence fast
	// path.
	undone map[string]bool
	// Rows not yet written (see flush): the fast-path check-ins (and
	// their ids) and the mutation rows, written in multi-row statements.
	pendingIns  []pendingCheckIn
	pendingIDs  map[string]bool
	pendingMuts []any
	// epoch is the history epoch, read once (a push does not change it).
	epoch string
	// undos tells that an undo was applied in the transaction: only then
	// can a queued check-in be undone (flush).
	undos bool
}

func newApplyState() *applyState {
	return &applyState{seen: map[string]seen{}, seqs: map[string]map[int64]string{}, undone: map[string]bool{}}
}

// queue adds a fast-path check-in to the rows the next flush writes.
func (s *applyState) queue(c pendingCheckIn) { s.pendingIns = append(s.pendingIns, c) }

// deviceSeqs returns the used seqs of device (see seqs).
func (s *applyState) deviceSeqs(device string) map[int64]string {
	m := s.seqs[device]
	if m == nil {
		m = map[int64]string{}
		s.seqs[device] = m
	}
	return m
}

// historyEpoch returns the database's history epoch (sync protocol 1.1,
// History), read once a transaction.
func (s *applyState) historyEpoch(t *txc) (string, error) {
	if s.epoch != "" {
		return s.epoch, nil
	}
	epoch, err := store.Epoch(t.ctx, t)
	s.epoch = epoch
	return epoch, err
}

// preload reads, in a few queries for all of reqs (the batches about to
// be applied in t, in order), which of their mutations were seen before,
// their activities, trainees and speakers (into t's caches), and which of
// their check-ins an undo already names. Each query joins one JSON list
// of ids (json_each: unlike IN (SELECT ...), no temporary index of the
// list), in chunks of 500.
func (s *applyState) preload(t *txc, reqs []*protocol.PushRequest) error {
	ids, checkIns := map[string]bool{}, map[string]bool{}
	for _, req := range reqs {
		for _, m := range req.Mutations {
			if m.ID != "" {
				ids[m.ID] = true
			}
			if m.Invalid == nil && m.Type == protocol.TypeCheckIn {
				checkIns[m.ID] = true
			}
		}
	}
	for _, chunk := range chunks(sortedKeys(ids), 500) {
		// A check-in applied on receipt has no mutation_log row: its
		// checkins row says it was seen, applied (the log row wins when
		// there is one: an older check-in, or a flagged one).
		list := jsonList(chunk)
		err := t.each(func(rows *sql.Rows) error {
			var id string
			var v seen
			var logged bool
			if err := rows.Scan(&id, &v.Status, &v.Code, &v.Message, &v.Device, &logged); err != nil {
				return err
			}
			if _, ok := s.seen[id]; !ok || logged {
				s.seen[id] = v
			}
			return nil
		}, `SELECT m.id, m.status, m.code, m.message, m.device_id, 1 FROM json_each(?1) j JOIN mutation_log m ON m.id = j.value
			UNION ALL SELECT c.id, 'applied', '', '', c.device_id, 0 FROM json_each(?1) j JOIN checkins c ON c.id = j.value`, list)
		if err != nil {
			return fmt.Errorf("preload mutations: %w", err)
		}
	}
	if err := preloadEntities(t, reqs); err != nil {
		return err
	}
	for _, chunk := range chunks(sortedKeys(checkIns), 500) {
		err := t.each(func(rows *sql.Rows) error {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			s.undone[id] = true
			return nil
		}, `SELECT u.checkin_id FROM json_each(?) j JOIN undo_targets u ON u.checkin_id = j.value`, jsonList(chunk))
		if err != nil {
			return fmt.Errorf("preload undos: %w", err)
		}
	}
	return nil
}

// preloadDevice reads the device's max_seq and gaps before the batch and
// which of the batch's seqs it already used. A seq matters only for a
// mutation not seen before (a duplicate answers first), and can have been
// used only up to the device's max_seq (updated by every push in the
// transaction that stores its mutations): a phone's next batch usually
// needs no query. A mutation refused as seq_reused does not own its seq:
// the answer names the mutation that does, as within a transaction.
func (b *batch) preloadDevice() error {
	dev, err := deviceState(b.t.ctx, b.t, b.req.DeviceID, "")
	if err != nil {
		return fmt.Errorf("preload: %w", err)
	}
	b.oldMax, b.oldGaps = dev.MaxSeq, dev.Gaps
	b.seqs = b.st.deviceSeqs(b.req.DeviceID)
	var seqs []any
	for _, m := range b.req.Mutations {
		if _, ok := b.st.seen[m.ID]; !ok && m.Seq > 0 && m.Seq <= b.oldMax && b.seqs[m.Seq] == "" {
			seqs = append(seqs, m.Seq)
		}
	}
	for _, chunk := range chunks(seqs, 500) {
		err := b.t.each(func(rows *sql.Rows) error {
			var seq int64
			var id string
			if err := rows.Scan(&seq, &id); err != nil {
				return err
			}
			b.seqs[seq] = id
			return nil
		}, `SELECT m.seq, m.id FROM json_each(?2) j JOIN mutation_log m ON m.device_id = ?1 AND m.seq = j.value AND m.code <> 'seq_reused'
			UNION ALL SELECT c.seq, c.id FROM json_each(?2) j JOIN checkins c ON c.device_id = ?1 AND c.seq = j.value`, b.req.DeviceID, jsonList(chunk))
		if err != nil {
			return fmt.Errorf("preload seqs: %w", err)
		}
	}
	return nil
}

// sortedKeys returns the keys of set in order, as query arguments.
func sortedKeys(set map[string]bool) []any {
	keys := make([]any, 0, len(set))
	for _, k := range slices.Sorted(maps.Keys(set)) {
		keys = append(keys, k)
	}
	return keys
}

// preloadEntities reads the activities, trainees and speakers of reqs'
// mutations into t's caches in a few queries (instead of one per
// mutation); ids not found are cached as unknown.
func preloadEntities(t *txc, reqs []*protocol.PushRequest) error {
	acts, trainees, speakers := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, req := range reqs {
		for _, m := range req.Mutations {
			if m.Invalid != nil {
				continue
			}
			if m.ActivityID != "" {
				acts[m.ActivityID] = true
			}
			if m.Person != nil {
				if m.Person.Kind == prodays.PersonSpeaker {
					speakers[m.Person.ID] = true
				} else {
					trainees[m.Person.ID] = true
				}
			}
			if m.TraineeID != "" {
				trainees[m.TraineeID] = true
			}
		}
	}
	// load caches what scan reads of ids (q joins their JSON list) and,
	// by absent, nil for each id not found.
	load := func(what string, ids map[string]bool, q string, scan func(rows *sql.Rows) error, absent func(id string)) error {
		for _, chunk := range chunks(sortedKeys(ids), 500) {
			if err := t.each(scan, q, jsonList(chunk)); err != nil {
				return fmt.Errorf("preload %s: %w", what, err)
			}
		}
		for id := range ids {
			absent(id)
		}
		return nil
	}
	person := func(p *personRow, err error) error {
		t.persons[p.Kind+":"+p.ID] = p
		return err
	}
	err := load("activities", acts, `SELECT a.id, a.kind, a.date, a.establishment_code, a.region_code, a.status FROM json_each(?) j JOIN activities a ON a.id = j.value`, func(rows *sql.Rows) error {
		a := &activity{}
		err := rows.Scan(&a.ID, &a.Kind, &a.Date, &a.Establishment, &a.Region, &a.Status)
		t.acts[a.ID] = a
		return err
	}, func(id string) { cacheAbsent(t.acts, id) })
	if err != nil {
		return err
	}
	err = load("trainees", trainees, `SELECT t.id, t.establishment_code, e.region_code, t.deleted, COALESCE(t.merged_into, ''), t.source = 'walk_in' FROM json_each(?) j JOIN trainees t ON t.id = j.value
		JOIN establishments e ON e.code = t.establishment_code`, func(rows *sql.Rows) error {
		p := &personRow{Kind: prodays.PersonTrainee}
		return person(p, rows.Scan(&p.ID, &p.Establishment, &p.Region, &p.Deleted, &p.MergedInto, &p.WalkIn))
	}, func(id string) { cacheAbsent(t.persons, "trainee:"+id) })
	if err != nil {
		return err
	}
	return load("speakers", speakers, `SELECT s.id FROM json_each(?) j JOIN speakers s ON s.id = j.value`, func(rows *sql.Rows) error {
		p := &personRow{Kind: prodays.PersonSpeaker}
		return person(p, rows.Scan(&p.ID))
	}, func(id string) { cacheAbsent(t.persons, "speaker:"+id) })
}

// cacheAbsent caches key as unknown (nil) in cache unless it holds it.
func cacheAbsent[V any](cache map[string]*V, key string) {
	if _, ok := cache[key]; !ok {
		cache[key] = nil
	}
}

// flush writes the queued rows in multi-row statements, in the order the
// mutations were applied: the check-ins, then their presences (a pair
// without a row has no surviving check-in, the table's invariant, so its
// presence is this check-in alone unless an applied undo names it; an
// existing row, from before, from a pair queued twice or written by a
// slow path since, makes the insert a no-op and the pair is recomputed
// from all its rows) with their changes, then the mutation rows. An undo
// of a queued check-in does not wait for it: the flush skips the presence
// of a check-in an applied undo names (undo_targets), as recompute does.
// It runs before anything that reads the rows it writes (a registration,
// a correction) and before commit; with a group, its rows are those of
// all the batches applied so far.
func (s *applyState) flush(t *txc) error {
	if len(s.pendingIns) > 0 {
		ins := s.pendingIns
		s.pendingIns = s.pendingIns[:0]
		if err := flushCheckIns(t, ins, s.undos); err != nil {
			return err
		}
	}
	if len(s.pendingMuts) > 0 {
		args := s.pendingMuts
		s.pendingMuts = s.pendingMuts[:0]
		if err := t.insertRows(`INSERT OR IGNORE INTO mutation_log (id, device_id, username, seq, type, status, code, message, recorded_at, occurred_at, received_at, payload, occurred_capped) VALUES `,
			`(?,?,?,?,?,?,?,?,?,?,?,?,?)`, ``, mutationCols, args, nil); err != nil {
			return fmt.Errorf("record mutation: %w", err)
		}
	}
	return nil
}

// presenceInsert inserts the presences of the check-ins after rowid ?1,
// their changes numbered from ?2 (flushCheckIns); presenceInsertUndone
// leaves out those an applied undo names, for a transaction with undos.
const (
	presenceInsert = `INSERT INTO attendance (activity_id, person_kind, person_id, present, checked_in_at, check_in_ids, updated_at, seq)
		SELECT activity_id, person_kind, person_id, 1, occurred_at, json_array(id), received_at, ?2 + rowid - ?1 - 1 FROM checkins c WHERE rowid > ?1
		ORDER BY rowid ON CONFLICT DO NOTHING`
	presenceInsertUndone = `INSERT INTO attendance (activity_id, person_kind, person_id, present, checked_in_at, check_in_ids, updated_at, seq)
		SELECT activity_id, person_kind, person_id, 1, occurred_at, json_array(id), received_at, ?2 + rowid - ?1 - 1 FROM checkins c WHERE rowid > ?1
		AND NOT EXISTS (SELECT 1 FROM undo_targets u WHERE u.checkin_id = c.id AND u.activity_id = c.activity_id AND u.status = 'applied')
		ORDER BY rowid ON CONFLICT DO NOTHING`
)

// flushCheckIns writes the queued fast-path check-ins: their checkins rows
// in multi-row statements, then their presences in one INSERT ... SELECT
// over those rows (the checkins rowids after the table's last one before
// them: one writer, no gaps), so that the values are bound once; each
// presence carries its change as a reserved seq (migration 00034). A pair
// the presence insert leaves out (a row exists: an earlier check-in or an
// override) is recomputed, and its change recorded, one by one.
func flushCheckIns(t *txc, ins []pendingCheckIn, undos bool) error {
	var last int64
	if err := t.QueryRowContext(t.ctx, `SELECT COALESCE(max(rowid), 0) FROM checkins`).Scan(&last); err != nil {
		return fmt.Errorf("check-ins: %w", err)
	}
	args := make([]any, 0, len(ins)*checkInCols)
	for _, p := range ins {
		args = append(args, p.args...)
	}
	if err := t.insertRows(insertCheckIn, `(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, ``, checkInCols, args, nil); err != nil {
		return fmt.Errorf("insert check-ins: %w", err)
	}
	var first, n int64
	if err := t.QueryRowContext(t.ctx, `SELECT COALESCE(min(rowid), 0), count(*) FROM checkins WHERE rowid > ?`, last).Scan(&first, &n); err != nil {
		return fmt.Errorf("check-ins: %w", err)
	}
	if first != last+1 || n != int64(len(ins)) {
		return fmt.Errorf("check-ins: rowids %d.. (%d rows) after %d, want %d rows", first, n, last, len(ins))
	}
	// checked_in_at is the occurred_at, check_in_ids the id, updated_at
	// the receipt of its batch; the change is the row's seq, one reserved
	// value per check-in, in order.
	seq0, err := store.NextSeqs(t.ctx, t, len(ins))
	if err != nil {
		return err
	}
	q := presenceInsert
	if undos {
		q = presenceInsertUndone
	}
	res, err := t.exec(q, last, seq0)
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
	ids, err := store.Query(t.ctx, t, func(sc store.Scanner) (string, error) {
		var a, k, p string
		err := sc.Scan(&a, &k, &p)
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
		if id := protocol.AttendanceID(p.act.ID, p.kind, p.person); existed[id] {
			delete(existed, id) // a pair queued twice: once
			if err := t.recompute(p.act, p.kind, p.person); err != nil {
				return err
			}
		}
	}
	return nil
}
