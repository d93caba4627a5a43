package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"prodays"
	"prodays/internal/derrors"
	"prodays/store"
	"prodays/sync/protocol"
)

// seen is the first outcome of a mutation already received, and the
// device that sent it.
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
		resp, clock, err = e.applyAlone(t, p, req, upload)
		return err
	})
	if err != nil {
		return nil, UploadClock{}, err
	}
	return resp, clock, nil
}

// applyAlone applies req in t with an applyState of its own, its rows
// written before it returns (applyBatch).
func (e *Engine) applyAlone(t *txc, p *prodays.Principal, req *protocol.PushRequest, upload bool) (*protocol.PushResponse, UploadClock, error) {
	st := newApplyState()
	if err := st.preload(t, []*protocol.PushRequest{req}); err != nil {
		return nil, UploadClock{}, err
	}
	resp, clock, err := e.applyBatch(t, st, p, req, upload)
	if err == nil {
		err = st.flush(t)
	}
	if err != nil {
		return nil, clock, err
	}
	return resp, clock, nil
}

// applyBatch applies req in the transaction t (its clock t.now is the
// batch's receipt) and answers it; st holds what the transaction's
// batches share, preloaded for req (applyState.preload), and the rows
// req queued, which the caller writes (applyState.flush) before the
// commit. On error nothing it wrote may be kept (the caller rolls back
// the transaction or the batch's savepoint).
// upload: an outbox file uploaded by a supervisor, corrected by the
// device's last known clock offset (clock says which was used).
func (e *Engine) applyBatch(t *txc, st *applyState, p *prodays.Principal, req *protocol.PushRequest, upload bool) (resp *protocol.PushResponse, clock UploadClock, err error) {
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
		b := &batch{t: t, st: st, p: p, req: req, receipt: receipt, offset: offset}
		if err := b.preloadDevice(); err != nil {
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
	st      *applyState // shared by the batches of the transaction
	p       *prodays.Principal
	req     *protocol.PushRequest
	receipt time.Time
	// receiptText is receipt as stored.
	receiptText string
	offset      time.Duration
	// seqs is the device's used seqs (applyState.seqs).
	seqs map[int64]string
	// oldMax and oldGaps are the device's max_seq and gaps before the
	// batch.
	oldMax  int64
	oldGaps [][2]int64
}

// flush writes the rows the transaction's batches queued (applyState.flush).
func (b *batch) flush() error { return b.st.flush(b.t) }

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
		if m.Seq > 0 && b.seqs[m.Seq] == "" {
			b.seqs[m.Seq] = key // its seq is used, as in a later push (reviewer finding)
		}
		return protocol.Result{ID: m.ID, Status: protocol.StatusRejected, Code: m.Invalid.Code, Message: m.Invalid.Message}, nil
	}
	if s, ok := b.st.seen[m.ID]; ok && s.Device != "" && s.Device != b.req.DeviceID {
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
			// Its queued targets need not be written first (flush).
			b.st.undos = true
			o, err = b.undo(m, occurred)
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
	b.st.seen[m.ID] = seen{Status: o.status, Code: o.code, Message: o.message, Device: b.req.DeviceID}
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
	b.st.pendingMuts = append(b.st.pendingMuts,
		id, b.req.DeviceID, b.p.Username, m.Seq, truncateText(m.Type, 100), o.status, o.code, o.message, rec, occ,
		b.receiptText, payload, boolInt(capped))
	return nil
}
