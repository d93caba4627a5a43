package engine

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"prodays"
	"prodays/internal/derrors"
	"prodays/store"
	"prodays/sync/protocol"
)

// seen is the first outcome of a mutation already received, and the
// device that sent it ("" for one of the batch being applied).
type seen struct {
	Status, Code, Message string
	Device                string
}

// Push applies a batch (sync protocol, Push) for caller p, received at the
// engine's clock: every mutation in array order, in one transaction (with
// grouping, group.go, the one the batches waiting for the writer share,
// this batch in its own savepoint), each with its own result. It returns
// only after the commit. Errors: code
// device_mismatch (403) when req.DeviceID is not the token's device; any
// other error is internal and nothing of the batch applied.
func (e *Engine) Push(ctx context.Context, p *prodays.Principal, req *protocol.PushRequest) (_ *protocol.PushResponse, err error) {
	defer derrors.Wrap(&err, "engine.Push(%s)", req.DeviceID)
	if p == nil || req.DeviceID != p.DeviceID {
		return nil, prodays.Errorf(protocol.ECodeDeviceMismatch, "device_id of the push is not the device this session logged in from.")
	}
	if e.grouping() {
		return e.pushGrouped(ctx, p, req)
	}
	resp, _, err := e.push(ctx, p, req, false)
	return resp, err
}

// push applies the batch alone in its own write transaction; upload tells
// an outbox file uploaded by a supervisor (UploadOutbox) from the phone's
// own push.
func (e *Engine) push(ctx context.Context, p *prodays.Principal, req *protocol.PushRequest, upload bool) (resp *protocol.PushResponse, clock UploadClock, err error) {
	err = e.withTx(ctx, func(t *txc) error {
		var err error
		resp, clock, err = e.applyBatch(t, p, req, upload)
		return err
	})
	if err != nil {
		return nil, UploadClock{}, err
	}
	return resp, clock, nil
}

// applyBatch applies req in the transaction t (its clock t.now is the
// batch's receipt) and answers it; on error nothing it wrote may be kept
// (the caller rolls back the transaction or the batch's savepoint).
// upload: an outbox file uploaded by a supervisor, corrected by the
// device's last known clock offset (clock says which was used).
func (e *Engine) applyBatch(t *txc, p *prodays.Principal, req *protocol.PushRequest, upload bool) (resp *protocol.PushResponse, clock UploadClock, err error) {
	{ // one block, as the transaction's closure was before grouping (group.go)
		receipt := t.now
		var offset time.Duration
		if upload {
			if clock, err = t.lastKnownClock(req.DeviceID); err != nil {
				return nil, clock, err
			}
			offset = time.Duration(clock.OffsetMS) * time.Millisecond
		} else {
			offset = protocol.ClockOffset(receipt, req.ClientTime)
		}
		resp = &protocol.PushResponse{ServerTime: receipt, ClockOffsetMS: offset.Milliseconds(),
			Results: make([]protocol.Result, 0, len(req.Mutations))}
		b := &batch{t: t, p: p, req: req, receipt: receipt, offset: offset}
		if err := b.preload(); err != nil {
			return nil, clock, err
		}
		b.receiptText = store.FormatTime(receipt)
		var maxSeq int64
		stored := make([]int64, 0, len(req.Mutations))
		for i := range req.Mutations {
			m := &req.Mutations[i]
			r, err := b.apply(m)
			if err != nil {
				return nil, clock, fmt.Errorf("mutation %d (%s): %w", i, m.ID, err)
			}
			resp.Results = append(resp.Results, r)
			if m.Invalid == nil || m.Seq > 0 {
				maxSeq = max(maxSeq, m.Seq)
			}
			if m.Seq > 0 {
				stored = append(stored, m.Seq)
			}
		}
		if err := b.flush(); err != nil {
			return nil, clock, err
		}
		dev, err := b.deviceAfter(maxSeq, stored)
		if err != nil {
			return nil, clock, err
		}
		resp.Device = dev
		gapsJSON, _ := json.Marshal(dev.Gaps)
		if upload {
			// The phone did not push: its clock, last push and outbox
			// stay as its own last push left them; only the seqs held grow.
			if _, err := t.exec(`UPDATE devices SET max_seq = ?, seq_gaps = ? WHERE id = ?`, dev.MaxSeq, string(gapsJSON), req.DeviceID); err != nil {
				return nil, clock, fmt.Errorf("update device: %w", err)
			}
			return resp, clock, nil
		}
		now := store.FormatTime(receipt)
		skewed := 0
		if protocol.Skewed(offset) {
			skewed = 1
		}
		_, err = t.exec(`INSERT INTO devices (id, username, first_seen_at, last_seen_at, last_push_at, app_version, clock_offset_ms, clock_skewed, outbox_size, max_seq, seq_gaps)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET last_seen_at = excluded.last_seen_at, last_push_at = excluded.last_push_at,
			app_version = excluded.app_version, clock_offset_ms = excluded.clock_offset_ms, clock_skewed = excluded.clock_skewed,
			outbox_size = excluded.outbox_size, max_seq = excluded.max_seq, seq_gaps = excluded.seq_gaps`,
			req.DeviceID, p.Username, now, now, now, req.AppVersion, offset.Milliseconds(), skewed, remaining(req), dev.MaxSeq, string(gapsJSON))
		if err != nil {
			return nil, clock, fmt.Errorf("update device: %w", err)
		}
		return resp, clock, nil
	}
}

// batch is one push being applied.
type batch struct {
	t       *txc
	p       *prodays.Principal
	req     *protocol.PushRequest
	receipt time.Time
	// receiptText is receipt as stored.
	receiptText string
	offset      time.Duration
	seen        map[string]seen
	seqs        map[int64]string
	// undone holds the batch's check-in ids named by an undo (stored
	// before the batch, or earlier in it): those never take the presence
	// fast path.
	undone map[string]bool
	// Rows not yet written (see flush): the fast-path check-ins and the
	// mutation rows of the batch, written in multi-row statements.
	pendingIns   []pendingCheckIn
	pendingPairs map[string]bool
	pendingMuts  []any
	// oldMax and oldGaps are the device's max_seq and gaps before the
	// batch.
	oldMax  int64
	oldGaps [][2]int64
}

// preload reads in a few queries which mutations of the batch were seen
// before and which of its seqs the device already used.
func (b *batch) preload() error {
	b.seen = map[string]seen{}
	b.seqs = map[int64]string{}
	var ids []any
	for _, m := range b.req.Mutations {
		if m.ID != "" {
			ids = append(ids, m.ID)
		}
	}
	for _, chunk := range chunks(ids, 500) {
		// A check-in applied on receipt has no mutation_log row: its
		// checkins row says it was seen, applied (the log row wins when
		// there is one: an older check-in, or a flagged one).
		list := jsonList(chunk)
		err := b.t.each(func(rows *sql.Rows) error {
			var id string
			var s seen
			var logged bool
			if err := rows.Scan(&id, &s.Status, &s.Code, &s.Message, &s.Device, &logged); err != nil {
				return err
			}
			if _, ok := b.seen[id]; !ok || logged {
				b.seen[id] = s
			}
			return nil
		}, `SELECT m.id, m.status, m.code, m.message, m.device_id, 1 FROM json_each(?1) j JOIN mutation_log m ON m.id = j.value
			UNION ALL SELECT c.id, 'applied', '', '', c.device_id, 0 FROM json_each(?1) j JOIN checkins c ON c.id = j.value`, list)
		if err != nil {
			return fmt.Errorf("preload mutations: %w", err)
		}
	}
	if err := b.preloadEntities(); err != nil {
		return err
	}
	b.undone = map[string]bool{}
	var checkInIDs []any
	for _, m := range b.req.Mutations {
		if m.Invalid == nil && m.Type == protocol.TypeCheckIn {
			checkInIDs = append(checkInIDs, m.ID)
		}
	}
	for _, chunk := range chunks(checkInIDs, 500) {
		err := b.t.each(func(rows *sql.Rows) error {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			b.undone[id] = true
			return nil
		}, `SELECT u.checkin_id FROM json_each(?) j JOIN undo_targets u ON u.checkin_id = j.value`, jsonList(chunk))
		if err != nil {
			return fmt.Errorf("preload undos: %w", err)
		}
	}
	// A seq matters only for a mutation not seen before (a duplicate
	// answers first), and can have been used only up to the device's
	// max_seq (updated by every push in the transaction that stores its
	// mutations): a phone's next batch usually needs no query.
	dev, err := deviceState(b.t.ctx, b.t, b.req.DeviceID, "")
	if err != nil {
		return fmt.Errorf("preload: %w", err)
	}
	b.oldMax, b.oldGaps = dev.MaxSeq, dev.Gaps
	maxSeq := b.oldMax
	var seqs []any
	for _, m := range b.req.Mutations {
		if _, ok := b.seen[m.ID]; !ok && m.Seq > 0 && m.Seq <= maxSeq {
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
		}, `SELECT m.seq, m.id FROM json_each(?2) j JOIN mutation_log m ON m.device_id = ?1 AND m.seq = j.value
			UNION ALL SELECT c.seq, c.id FROM json_each(?2) j JOIN checkins c ON c.device_id = ?1 AND c.seq = j.value`, b.req.DeviceID, jsonList(chunk))
		if err != nil {
			return fmt.Errorf("preload seqs: %w", err)
		}
	}
	return nil
}

// preloadEntities reads the batch's activities, trainees and speakers
// into the transaction's caches in a few queries (instead of one per
// mutation), each joining one JSON list of ids (json_each: unlike
// IN (SELECT ...), no temporary index of the list); ids not found are
// cached as unknown.
func (b *batch) preloadEntities() error {
	t := b.t
	acts, trainees, speakers := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, m := range b.req.Mutations {
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
	// load caches what scan reads of ids (q joins their JSON list) and,
	// by absent, nil for each id not found.
	load := func(what string, ids map[string]bool, q string, scan func(rows *sql.Rows) error, absent func(id string)) error {
		keys := make([]any, 0, len(ids))
		for _, id := range slices.Sorted(maps.Keys(ids)) {
			keys = append(keys, id)
		}
		for _, chunk := range chunks(keys, 500) {
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

// outcome is the result of applying one mutation.
type outcome struct {
	status, code, message string
}

func applied() outcome { return outcome{status: protocol.StatusApplied} }

func rejected(code, format string, args ...any) outcome {
	return outcome{status: protocol.StatusRejected, code: code, message: fmt.Sprintf(format, args...)}
}

func flagged(kind, format string, args ...any) outcome {
	return outcome{status: protocol.StatusFlagged, code: kind, message: fmt.Sprintf(format, args...)}
}

// apply applies one mutation and records it in the idempotency index:
// mutation_log, where rejected ones stay as the quarantine, or for a
// check-in applied now its checkins row (the view mutations shows both).
func (b *batch) apply(m *protocol.Mutation) (protocol.Result, error) {
	if m.Invalid != nil && !protocol.IsUUID(m.ID) {
		// No usable idempotency key: keep it in quarantine under a key
		// derived from the device and the bytes sent.
		sum := sha256.Sum256(append([]byte(b.req.DeviceID+"\x00"), m.Raw...))
		key := "invalid-" + hex.EncodeToString(sum[:16])
		if err := b.record(key, m, time.Time{}, false, outcome{status: protocol.StatusRejected, code: m.Invalid.Code, message: m.Invalid.Message}); err != nil {
			return protocol.Result{}, err
		}
		return protocol.Result{ID: m.ID, Status: protocol.StatusRejected, Code: m.Invalid.Code, Message: m.Invalid.Message}, nil
	}
	if s, ok := b.seen[m.ID]; ok && s.Device != "" && s.Device != b.req.DeviceID {
		return b.reused(m) // another device's id: never its duplicate (reused.go)
	} else if ok {
		return protocol.Result{ID: m.ID, Status: protocol.StatusDuplicate, Outcome: s.Status, Code: s.Code, Message: s.Message}, nil
	}
	occurred, capped := protocol.OccurredAt(m.RecordedAt, b.offset, b.receipt)
	var o outcome
	var err error
	switch {
	case m.Invalid != nil:
		o = outcome{status: protocol.StatusRejected, code: m.Invalid.Code, message: m.Invalid.Message}
	case b.seqs[m.Seq] != "" && b.seqs[m.Seq] != m.ID:
		o = rejected(protocol.CodeSeqReused, "This device already sent mutation %s with seq %d.", b.seqs[m.Seq], m.Seq)
	default:
		switch m.Type {
		case protocol.TypeCheckIn:
			o, err = b.checkIn(m, occurred, capped)
		case protocol.TypeUndo:
			if err = b.flush(); err == nil {
				o, err = b.undo(m, occurred)
			}
		case protocol.TypeTraineeRegister:
			if err = b.flush(); err == nil {
				o, err = b.register(m, occurred)
			}
		case protocol.TypeTraineeUpdate:
			if err = b.flush(); err == nil {
				o, err = b.update(m, occurred)
			}
		}
	}
	if err != nil {
		return protocol.Result{}, err
	}
	if m.Invalid != nil || m.Type != protocol.TypeCheckIn || o.status != protocol.StatusApplied {
		// A check-in applied now is its checkins row (migration 00033).
		if err := b.record(m.ID, m, occurred, capped, o); err != nil {
			return protocol.Result{}, err
		}
	}
	b.seen[m.ID] = seen{Status: o.status, Code: o.code, Message: o.message}
	if m.Seq > 0 && b.seqs[m.Seq] == "" {
		b.seqs[m.Seq] = m.ID
	}
	return protocol.Result{ID: m.ID, Status: o.status, Code: o.code, Message: o.message}, nil
}

// mutationCols is the width of a row of mutations as record writes it.
const mutationCols = 13

// record queues the mutation's row in mutation_log; flush writes it
// (before anything of the batch reads mutations, and before commit).
func (b *batch) record(id string, m *protocol.Mutation, occurred time.Time, capped bool, o outcome) error {
	rec, occ := "", ""
	if !m.RecordedAt.IsZero() {
		rec = store.FormatTime(m.RecordedAt)
	}
	if !occurred.IsZero() {
		occ = store.FormatTime(occurred)
	}
	payload := string(m.Raw)
	if !json.Valid(m.Raw) {
		payload, _ = jsonString(string(m.Raw))
	}
	b.pendingMuts = append(b.pendingMuts,
		id, b.req.DeviceID, b.p.Username, m.Seq, truncateText(m.Type, 100), o.status, o.code, o.message, rec, occ,
		b.receiptText, payload, boolInt(capped))
	return nil
}
