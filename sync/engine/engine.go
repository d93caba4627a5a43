// Package engine is the SQLite-backed sync engine of prodays: it applies
// pushed mutations (one write transaction per batch, answered only after
// commit), serves pulls from the change log, and carries out the
// supervisors' review decisions. The rules themselves live in
// sync/protocol; this package stores their inputs and materialises their
// results (attendance, flags, conflicts, merge proposals, change log).
package engine

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"prodays"
	"prodays/store"
	"prodays/sync/protocol"
)

// Engine applies the sync protocol to a store.DB. Create it with New.
type Engine struct {
	DB *store.DB
	// stmts holds statements prepared once on the single writer
	// connection; transactions use them through tx.StmtContext, which
	// reuses the connection's prepared statement (no parse per batch).
	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt
	// Loc is Africa/Casablanca: the days of the activity date window.
	Loc    *time.Location
	Logger *slog.Logger
}

// New returns an engine on db; it fails when the tz database lacks
// Africa/Casablanca (import time/tzdata in main).
func New(db *store.DB) (*Engine, error) {
	loc, err := protocol.Casablanca()
	if err != nil {
		return nil, fmt.Errorf("sync engine: %w", err)
	}
	return &Engine{DB: db, Loc: loc, Logger: slog.Default()}, nil
}

func (e *Engine) now() time.Time {
	if e.DB.Now != nil {
		return e.DB.Now()
	}
	return time.Now()
}

// txc is one write transaction of the engine: prepared statements cached
// per query text (it implements store.Execer, so store.RecordChange and
// store.Audit use them too), and per-batch caches of activities and
// persons.
type txc struct {
	e     *Engine
	learn []string // queries to prepare on the engine after the commit
	ctx   context.Context
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
	now   time.Time
	acts  map[string]*activity
	// persons caches trainee and speaker lookups ("trainee:ID").
	persons map[string]*personRow
}

func newTxc(e *Engine, ctx context.Context, tx *sql.Tx, now time.Time) *txc {
	return &txc{e: e, ctx: ctx, tx: tx, stmts: map[string]*sql.Stmt{}, now: now,
		acts: map[string]*activity{}, persons: map[string]*personRow{}}
}

func (t *txc) stmt(q string) (*sql.Stmt, error) {
	if s, ok := t.stmts[q]; ok {
		return s, nil
	}
	var s *sql.Stmt
	if ps := t.e.prepared(q); ps != nil {
		s = t.tx.StmtContext(t.ctx, ps)
	} else {
		var err error
		if s, err = t.tx.PrepareContext(t.ctx, q); err != nil {
			return nil, fmt.Errorf("prepare %.60q: %w", q, err)
		}
		t.learn = append(t.learn, q)
	}
	t.stmts[q] = s
	return s, nil
}

// ExecContext runs q through the transaction's prepared statement cache.
func (t *txc) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	s, err := t.stmt(q)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

// QueryContext runs q through the prepared statement cache.
func (t *txc) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	s, err := t.stmt(q)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// QueryRowContext runs q through the prepared statement cache.
func (t *txc) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	s, err := t.stmt(q)
	if err != nil {
		// A failed prepare surfaces at Scan through a query that fails the same way.
		return t.tx.QueryRowContext(ctx, q, args...)
	}
	return s.QueryRowContext(ctx, args...)
}

func (t *txc) exec(q string, args ...any) (sql.Result, error) {
	return t.ExecContext(t.ctx, q, args...)
}

func (t *txc) close() {
	for _, s := range t.stmts {
		s.Close()
	}
}

// prepared returns q as prepared on the writer connection by an earlier
// transaction, or nil.
func (e *Engine) prepared(q string) *sql.Stmt {
	e.stmtMu.Lock()
	defer e.stmtMu.Unlock()
	return e.stmts[q]
}

// learn prepares qs on the writer connection once it is free (after a
// commit), so that later transactions reuse them.
func (e *Engine) learn(ctx context.Context, qs []string) {
	for _, q := range qs {
		if e.prepared(q) != nil {
			continue
		}
		s, err := e.DB.Write.PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		e.stmtMu.Lock()
		if e.stmts == nil {
			e.stmts = map[string]*sql.Stmt{}
		}
		if e.stmts[q] == nil {
			e.stmts[q] = s
		} else {
			s.Close()
		}
		e.stmtMu.Unlock()
	}
}

// withTx runs fn in one write transaction with a statement cache.
func (e *Engine) withTx(ctx context.Context, fn func(t *txc) error) error {
	now := e.now()
	var learn []string
	err := e.DB.WithTx(ctx, func(tx *sql.Tx) error {
		t := newTxc(e, ctx, tx, now)
		defer t.close()
		err := fn(t)
		learn = t.learn
		return err
	})
	if len(learn) > 0 {
		e.learn(ctx, learn)
	}
	return err
}

// activity is what the engine needs of an activity.
type activity struct {
	ID, Kind, Date, Establishment, Region, Status string
}

func (a *activity) closed() bool { return a.Status == "closed" }

// activity returns the activity (cached for the transaction), nil when
// unknown.
func (t *txc) activity(id string) (*activity, error) {
	if a, ok := t.acts[id]; ok {
		return a, nil
	}
	a := &activity{ID: id}
	err := t.QueryRowContext(t.ctx, `SELECT kind, date, establishment_code, region_code, status FROM activities WHERE id = ?`, id).
		Scan(&a.Kind, &a.Date, &a.Establishment, &a.Region, &a.Status)
	if errors.Is(err, sql.ErrNoRows) {
		a = nil
	} else if err != nil {
		return nil, fmt.Errorf("activity %s: %w", id, err)
	}
	t.acts[id] = a
	return a, nil
}

// personRow is a trainee or speaker as the engine sees it. For a trainee,
// Deleted and MergedInto describe a merged walk-in (a tombstone).
type personRow struct {
	Kind, ID      string
	Establishment string
	Region        string
	Deleted       bool
	MergedInto    string
	WalkIn        bool // a trainee registered on a phone (source walk_in)
}

// person returns the trainee or speaker, nil when unknown.
func (t *txc) person(kind, id string) (*personRow, error) {
	key := kind + ":" + id
	if p, ok := t.persons[key]; ok {
		return p, nil
	}
	p := &personRow{Kind: kind, ID: id}
	var err error
	if kind == prodays.PersonSpeaker {
		err = t.QueryRowContext(t.ctx, `SELECT 1 FROM speakers WHERE id = ?`, id).Scan(new(int))
	} else {
		var merged sql.NullString
		err = t.QueryRowContext(t.ctx, `SELECT t.establishment_code, e.region_code, t.deleted, t.merged_into, t.source = 'walk_in' FROM trainees t
			JOIN establishments e ON e.code = t.establishment_code WHERE t.id = ?`, id).
			Scan(&p.Establishment, &p.Region, &p.Deleted, &merged, &p.WalkIn)
		p.MergedInto = merged.String
	}
	if errors.Is(err, sql.ErrNoRows) {
		p = nil
	} else if err != nil {
		return nil, fmt.Errorf("%s %s: %w", kind, id, err)
	}
	t.persons[key] = p
	return p, nil
}

// resolveTrainee follows merges from id to the kept trainee.
func (t *txc) resolveTrainee(id string) (*personRow, error) {
	p, err := t.person(prodays.PersonTrainee, id)
	for i := 0; err == nil && p != nil && p.Deleted && p.MergedInto != "" && i < 16; i++ {
		p, err = t.person(prodays.PersonTrainee, p.MergedInto)
	}
	return p, err
}

func (t *txc) forget(kind, id string) { delete(t.persons, kind+":"+id) }

// seen is the first outcome of a mutation already received, and the
// device that sent it ("" for one of the batch being applied).
type seen struct {
	Status, Code, Message string
	Device                string
}

// Push applies a batch (sync protocol, Push) for caller p, received at the
// engine's clock: every mutation in array order, in one transaction, each
// with its own result. It returns only after the commit. Errors: code
// device_mismatch (403) when req.DeviceID is not the token's device; any
// other error is internal and nothing of the batch applied.
func (e *Engine) Push(ctx context.Context, p *prodays.Principal, req *protocol.PushRequest) (*protocol.PushResponse, error) {
	if p == nil || req.DeviceID != p.DeviceID {
		return nil, prodays.Errorf(protocol.ECodeDeviceMismatch, "device_id of the push is not the device this session logged in from.")
	}
	var resp *protocol.PushResponse
	err := e.withTx(ctx, func(t *txc) error {
		receipt := t.now
		offset := protocol.ClockOffset(receipt, req.ClientTime)
		resp = &protocol.PushResponse{ServerTime: receipt, ClockOffsetMS: offset.Milliseconds(),
			Results: make([]protocol.Result, 0, len(req.Mutations))}
		b := &batch{t: t, p: p, req: req, receipt: receipt, offset: offset}
		if err := b.preload(); err != nil {
			return err
		}
		b.receiptText = store.FormatTime(receipt)
		var maxSeq int64
		for i := range req.Mutations {
			m := &req.Mutations[i]
			r, err := b.apply(m)
			if err != nil {
				return fmt.Errorf("mutation %d (%s): %w", i, m.ID, err)
			}
			resp.Results = append(resp.Results, r)
			if m.Invalid == nil || m.Seq > 0 {
				maxSeq = max(maxSeq, m.Seq)
			}
		}
		if err := b.flush(); err != nil {
			return err
		}
		now := store.FormatTime(receipt)
		skewed := 0
		if protocol.Skewed(offset) {
			skewed = 1
		}
		_, err := t.exec(`INSERT INTO devices (id, username, first_seen_at, last_seen_at, last_push_at, app_version, clock_offset_ms, clock_skewed, outbox_size, max_seq)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET last_seen_at = excluded.last_seen_at, last_push_at = excluded.last_push_at,
			app_version = excluded.app_version, clock_offset_ms = excluded.clock_offset_ms, clock_skewed = excluded.clock_skewed,
			outbox_size = excluded.outbox_size, max_seq = max(devices.max_seq, excluded.max_seq)`,
			req.DeviceID, p.Username, now, now, now, req.AppVersion, offset.Milliseconds(), skewed, req.OutboxSize, maxSeq)
		if err != nil {
			return fmt.Errorf("update device: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
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
		rows, err := b.t.QueryContext(b.t.ctx, `SELECT m.id, m.status, m.code, m.message, m.device_id, 1 FROM json_each(?1) j JOIN mutation_log m ON m.id = j.value
			UNION ALL SELECT c.id, 'applied', '', '', c.device_id, 0 FROM json_each(?1) j JOIN checkins c ON c.id = j.value`, list)
		if err != nil {
			return fmt.Errorf("preload mutations: %w", err)
		}
		for rows.Next() {
			var id string
			var s seen
			var logged bool
			if err := rows.Scan(&id, &s.Status, &s.Code, &s.Message, &s.Device, &logged); err != nil {
				rows.Close()
				return err
			}
			if _, ok := b.seen[id]; !ok || logged {
				b.seen[id] = s
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
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
		rows, err := b.t.QueryContext(b.t.ctx, `SELECT u.checkin_id FROM json_each(?) j JOIN undo_targets u ON u.checkin_id = j.value`, jsonList(chunk))
		if err != nil {
			return fmt.Errorf("preload undos: %w", err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			b.undone[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	// A seq matters only for a mutation not seen before (a duplicate
	// answers first), and can have been used only up to the device's
	// max_seq (updated by every push in the transaction that stores its
	// mutations): a phone's next batch usually needs no query.
	var maxSeq int64
	if err := b.t.QueryRowContext(b.t.ctx, `SELECT max_seq FROM devices WHERE id = ?`, b.req.DeviceID).Scan(&maxSeq); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("preload max seq: %w", err)
	}
	var seqs []any
	for _, m := range b.req.Mutations {
		if _, ok := b.seen[m.ID]; !ok && m.Seq > 0 && m.Seq <= maxSeq {
			seqs = append(seqs, m.Seq)
		}
	}
	for _, chunk := range chunks(seqs, 500) {
		rows, err := b.t.QueryContext(b.t.ctx, `SELECT m.seq, m.id FROM json_each(?2) j JOIN mutation_log m ON m.device_id = ?1 AND m.seq = j.value
			UNION ALL SELECT c.seq, c.id FROM json_each(?2) j JOIN checkins c ON c.device_id = ?1 AND c.seq = j.value`, b.req.DeviceID, jsonList(chunk))
		if err != nil {
			return fmt.Errorf("preload seqs: %w", err)
		}
		for rows.Next() {
			var seq int64
			var id string
			if err := rows.Scan(&seq, &id); err != nil {
				rows.Close()
				return err
			}
			b.seqs[seq] = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
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
	load := func(ids map[string]bool, q string, scan func(rows *sql.Rows) error, absent func(id string)) error {
		keys := make([]any, 0, len(ids))
		for _, id := range sortedKeys(ids) {
			keys = append(keys, id)
		}
		for _, chunk := range chunks(keys, 500) {
			rows, err := t.QueryContext(t.ctx, q, jsonList(chunk))
			if err != nil {
				return err
			}
			for rows.Next() {
				if err := scan(rows); err != nil {
					rows.Close()
					return err
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		for id := range ids {
			absent(id)
		}
		return nil
	}
	err := load(acts, `SELECT a.id, a.kind, a.date, a.establishment_code, a.region_code, a.status FROM json_each(?) j JOIN activities a ON a.id = j.value`, func(rows *sql.Rows) error {
		a := &activity{}
		err := rows.Scan(&a.ID, &a.Kind, &a.Date, &a.Establishment, &a.Region, &a.Status)
		t.acts[a.ID] = a
		return err
	}, func(id string) {
		if _, ok := t.acts[id]; !ok {
			t.acts[id] = nil
		}
	})
	if err != nil {
		return fmt.Errorf("preload activities: %w", err)
	}
	err = load(trainees, `SELECT t.id, t.establishment_code, e.region_code, t.deleted, COALESCE(t.merged_into, ''), t.source = 'walk_in' FROM json_each(?) j JOIN trainees t ON t.id = j.value
		JOIN establishments e ON e.code = t.establishment_code`, func(rows *sql.Rows) error {
		p := &personRow{Kind: prodays.PersonTrainee}
		err := rows.Scan(&p.ID, &p.Establishment, &p.Region, &p.Deleted, &p.MergedInto, &p.WalkIn)
		t.persons[p.Kind+":"+p.ID] = p
		return err
	}, func(id string) {
		if _, ok := t.persons["trainee:"+id]; !ok {
			t.persons["trainee:"+id] = nil
		}
	})
	if err != nil {
		return fmt.Errorf("preload trainees: %w", err)
	}
	err = load(speakers, `SELECT s.id FROM json_each(?) j JOIN speakers s ON s.id = j.value`, func(rows *sql.Rows) error {
		p := &personRow{Kind: prodays.PersonSpeaker}
		err := rows.Scan(&p.ID)
		t.persons[p.Kind+":"+p.ID] = p
		return err
	}, func(id string) {
		if _, ok := t.persons["speaker:"+id]; !ok {
			t.persons["speaker:"+id] = nil
		}
	})
	if err != nil {
		return fmt.Errorf("preload speakers: %w", err)
	}
	return nil
}

// rowChunks are the row counts of the multi-row statements of insertRows:
// a few fixed sizes, so that each has one text and stays prepared.
var rowChunks = []int{128, 32, 8, 1}

// insertRows runs prefix + n copies of row (joined by commas) + suffix
// over args (width values a row) in statements of rowChunks rows (at most
// 128 × width host parameters, far under SQLite's 32,766), in order. With
// each, the statements are queries (RETURNING) and each scans every row.
func (t *txc) insertRows(prefix, row, suffix string, width int, args []any, each func(*sql.Rows) error) error {
	for len(args) > 0 {
		n := len(args) / width
		size := rowChunks[len(rowChunks)-1]
		for _, c := range rowChunks {
			if c <= n {
				size = c
				break
			}
		}
		q := prefix + strings.TrimSuffix(strings.Repeat(row+",", size), ",") + suffix
		chunk := args[:size*width]
		args = args[size*width:]
		if each == nil {
			if _, err := t.exec(q, chunk...); err != nil {
				return err
			}
			continue
		}
		rows, err := t.QueryContext(t.ctx, q, chunk...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := each(rows); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

func chunks(xs []any, n int) [][]any {
	var out [][]any
	for len(xs) > n {
		out = append(out, xs[:n])
		xs = xs[n:]
	}
	if len(xs) > 0 {
		out = append(out, xs)
	}
	return out
}

// jsonList is xs as a JSON array: a list bound as one parameter and read
// with json_each (one bind instead of one per value).
func jsonList(xs []any) string {
	bs, err := json.Marshal(xs)
	if err != nil {
		panic(err) // strings and integers only
	}
	return string(bs)
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
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

func jsonString(s string) (string, error) {
	bs, err := json.Marshal(s)
	return string(bs), err
}

func truncateText(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// inScope reports whether p may record attendance at a (sync protocol
// guarantee 4; issue #3): staff at activities of their establishment,
// supervisors of their region, admins anywhere.
func inScope(p *prodays.Principal, a *activity) bool {
	switch p.Role {
	case prodays.RoleAdmin:
		return true
	case prodays.RoleSupervisor:
		return p.RegionCode != "" && a.Region == p.RegionCode
	case prodays.RoleStaff:
		return p.EstablishmentCode != "" && a.Establishment == p.EstablishmentCode
	}
	return false
}

// sortedKeys returns m's keys in order (deterministic effects).
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
