package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"prodays"
	"prodays/sync/protocol"
)

// Group commit (issue #17). Pushes that wait for the single writer are
// applied together in one write transaction, as one batch of all their
// mutations (one preload, one write of their rows); when that fails, in a
// new transaction with each batch in its own SAVEPOINT: a batch whose
// apply fails is rolled back to its savepoint alone (and answered with
// its error), the others commit. Every push is
// answered only after the shared commit, so an answer still means
// "stored" (sync protocol §Push), and a crash before the commit keeps
// none of the group's batches. The leader takes whatever queued while the
// previous commit ran: a lone push starts at once.

// DefaultGroupMaxMutations is the default bound of a group, in mutations
// (the sum over its batches; a group always takes its first batch
// whatever its size). Measured in docs/performance.md ("Group commit").
const DefaultGroupMaxMutations = 4000

// DefaultGroupMaxWait is the default time a leader waits for a group to
// fill when others are already waiting: 0, since the queue refills while
// each commit runs (docs/performance.md).
const DefaultGroupMaxWait = time.Duration(0)

// GroupOptions bound the group commit of pushes.
type GroupOptions struct {
	// MaxMutations is the most mutations of one group, its batches summed
	// (a group always takes at least one batch). 0 or less: no grouping,
	// each push in its own transaction.
	MaxMutations int
	// MaxWait is how long the leader of a group of at least two batches
	// waits for more to arrive while the group is under MaxMutations. A
	// lone push is never delayed. 0: no wait.
	MaxWait time.Duration
}

// GroupStats counts the group commits of an engine since it started.
type GroupStats struct {
	Groups    int64 // transactions of grouped pushes
	Batches   int64 // pushes applied in them
	Mutations int64 // their mutations
	Largest   int64 // the most batches in one group
	Failed    int64 // batches rolled back to their savepoint alone
	Retried   int64 // batches applied alone after their group failed to commit
	// Savepoints counts the groups applied again with a savepoint a
	// batch after their apply as one batch failed.
	Savepoints int64
	Queued     int // pushes waiting now
	Applying   int // pushes of the group being applied now
}

// pendingPush is a push waiting for its group's commit.
type pendingPush struct {
	ctx  context.Context
	p    *prodays.Principal
	req  *protocol.PushRequest
	resp *protocol.PushResponse
	err  error
	done chan struct{}
}

// groupQueue holds the pushes waiting for the writer.
type groupQueue struct {
	mu       sync.Mutex
	queue    []*pendingPush
	leading  bool          // a leader goroutine is applying groups
	applying int           // batches of the group being applied
	arrived  chan struct{} // a push was queued (MaxWait)
	stats    GroupStats
}

func (e *Engine) grouping() bool { return e.Group.MaxMutations > 0 }

// GroupStats returns the group commit counters.
func (e *Engine) GroupStats() GroupStats {
	q := &e.gq
	q.mu.Lock()
	defer q.mu.Unlock()
	s := q.stats
	s.Queued, s.Applying = len(q.queue), q.applying
	return s
}

// pushGrouped queues req for the next group and waits for its answer.
// When ctx ends before the group took the push, it is dropped unapplied;
// once taken it is applied (the caller's answer is then lost, as a
// dropped answer: the phone's retry is a duplicate).
func (e *Engine) pushGrouped(ctx context.Context, p *prodays.Principal, req *protocol.PushRequest) (*protocol.PushResponse, error) {
	pp := &pendingPush{ctx: ctx, p: p, req: req, done: make(chan struct{})}
	q := &e.gq
	q.mu.Lock()
	if q.arrived == nil {
		q.arrived = make(chan struct{}, 1)
	}
	q.queue = append(q.queue, pp)
	lead := !q.leading
	q.leading = true
	q.mu.Unlock()
	if lead {
		go e.lead()
	} else {
		select {
		case q.arrived <- struct{}{}:
		default:
		}
	}
	select {
	case <-pp.done:
		return pp.resp, pp.err
	case <-ctx.Done():
		q.mu.Lock()
		for i, x := range q.queue {
			if x == pp {
				q.queue = append(q.queue[:i], q.queue[i+1:]...)
				q.mu.Unlock()
				return nil, ctx.Err()
			}
		}
		q.mu.Unlock()
		<-pp.done // taken: its group commits or not, as a dropped answer
		return pp.resp, pp.err
	}
}

// lead applies groups until the queue is empty.
func (e *Engine) lead() {
	q := &e.gq
	for {
		q.mu.Lock()
		group := e.take()
		q.applying = len(group)
		if len(group) == 0 {
			q.leading = false
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		if e.Group.MaxWait > 0 && len(group) > 1 {
			group = e.fill(group)
		}
		e.commitGroup(group)
	}
}

// take removes from the queue the next group: its first push, and the
// following ones while their mutations fit in MaxMutations. q.mu held.
func (e *Engine) take() []*pendingPush {
	q := &e.gq
	n, total := 0, 0
	for n < len(q.queue) {
		size := len(q.queue[n].req.Mutations)
		if n > 0 && total+size > e.Group.MaxMutations {
			break
		}
		total += size
		n++
	}
	group := make([]*pendingPush, n)
	copy(group, q.queue[:n])
	q.queue = append(q.queue[:0], q.queue[n:]...)
	return group
}

// fill waits up to MaxWait for more pushes to join group while it is
// under MaxMutations.
func (e *Engine) fill(group []*pendingPush) []*pendingPush {
	q := &e.gq
	total := 0
	for _, pp := range group {
		total += len(pp.req.Mutations)
	}
	deadline := time.NewTimer(e.Group.MaxWait)
	defer deadline.Stop()
	for total < e.Group.MaxMutations {
		select {
		case <-deadline.C:
			return group
		case <-q.arrived:
		}
		q.mu.Lock()
		for len(q.queue) > 0 && total+len(q.queue[0].req.Mutations) <= e.Group.MaxMutations {
			total += len(q.queue[0].req.Mutations)
			group = append(group, q.queue[0])
			q.queue = q.queue[1:]
			q.applying++
		}
		q.mu.Unlock()
	}
	return group
}

// commitGroup applies group in one transaction and answers every push
// after the commit. The group is first applied as one batch of all its
// mutations (applyShared: one preload, one flush); when that fails, it is
// applied again in a new transaction with each batch in its own
// savepoint (applySavepoints), so that a failing batch is rolled back
// alone and answered with its error. When that transaction itself fails
// (begin, a savepoint's rollback, commit), nothing of the group is stored
// and each batch is applied again alone.
func (e *Engine) commitGroup(group []*pendingPush) {
	// A push's cancellation must not roll back the others.
	ctx := context.WithoutCancel(group[0].ctx)
	failed, fallback := 0, false
	err := e.withTx(ctx, func(t *txc) error { return e.applyShared(t, group) })
	if err != nil && len(group) > 1 {
		fallback = true
		err = e.withTx(ctx, func(t *txc) error {
			var err error
			failed, err = e.applySavepoints(t, group)
			return err
		})
	}
	retried := 0
	switch {
	case err == nil:
	case len(group) == 1:
		group[0].resp, group[0].err = nil, err
	default:
		// Nothing of the group committed: each batch alone, as without
		// grouping.
		failed = 0
		for _, pp := range group {
			retried++
			pp.resp, pp.err = nil, nil
			if pp.ctx.Err() != nil {
				pp.err = pp.ctx.Err()
				continue
			}
			pp.resp, _, pp.err = e.push(pp.ctx, pp.p, pp.req, false)
		}
	}
	q := &e.gq
	q.mu.Lock()
	q.stats.Groups++
	q.stats.Batches += int64(len(group))
	for _, pp := range group {
		q.stats.Mutations += int64(len(pp.req.Mutations))
	}
	q.stats.Largest = max(q.stats.Largest, int64(len(group)))
	q.stats.Failed += int64(failed)
	q.stats.Retried += int64(retried)
	if fallback {
		q.stats.Savepoints++
	}
	q.applying = 0
	q.mu.Unlock()
	for _, pp := range group {
		close(pp.done)
	}
}

// applyShared applies the group's batches in t in order as one batch of
// all their mutations: one applyState, preloaded for all of them in one
// set of queries, and their rows written in one flush at the end. Each
// batch is answered as if applied alone at its own receipt time. The
// first error is returned, with nothing of the group to be kept.
func (e *Engine) applyShared(t *txc, group []*pendingPush) error {
	reqs := make([]*protocol.PushRequest, len(group))
	for i, pp := range group {
		reqs[i] = pp.req
		pp.resp, pp.err = nil, nil
	}
	st := newApplyState()
	if err := st.preload(t, reqs); err != nil {
		return err
	}
	for i, pp := range group {
		if i > 0 {
			t.now = e.now()
		}
		resp, err := safeApply(func() (*protocol.PushResponse, error) {
			resp, _, err := e.applyBatch(t, st, pp.p, pp.req, false)
			return resp, err
		})
		if err != nil {
			return err
		}
		pp.resp = resp
	}
	return st.flush(t) // on error the caller drops or redoes every answer
}

// applySavepoints applies the group's batches in t in order, each alone
// in its own SAVEPOINT: a batch whose apply fails is rolled back to its
// savepoint and keeps its error, the others their answers. It returns how
// many failed, and the error that makes the transaction itself fail.
func (e *Engine) applySavepoints(t *txc, group []*pendingPush) (failed int, err error) {
	for i, pp := range group {
		pp.resp, pp.err = nil, nil
		if i > 0 {
			t.now = e.now()
			t.resetCaches()
		}
		if _, err := t.tx.ExecContext(t.ctx, `SAVEPOINT push_batch`); err != nil {
			return failed, fmt.Errorf("savepoint: %w", err)
		}
		resp, err := safeApply(func() (*protocol.PushResponse, error) {
			resp, _, err := e.applyAlone(t, pp.p, pp.req, false)
			return resp, err
		})
		if err != nil {
			// Only this batch is undone; the caches may hold what it wrote.
			pp.err = err
			failed++
			t.resetCaches()
			if _, rerr := t.tx.ExecContext(t.ctx, `ROLLBACK TO push_batch`); rerr != nil {
				return failed, errors.Join(err, fmt.Errorf("rollback to savepoint: %w", rerr))
			}
		} else {
			pp.resp = resp
		}
		if _, err := t.tx.ExecContext(t.ctx, `RELEASE push_batch`); err != nil {
			return failed, fmt.Errorf("release savepoint: %w", err)
		}
	}
	return failed, nil
}

// safeApply runs apply, a batch's apply, with a panic turned into the
// batch's error (the leader goroutine has no HTTP recovery above it).
func safeApply(apply func() (*protocol.PushResponse, error)) (resp *protocol.PushResponse, err error) {
	defer func() {
		if r := recover(); r != nil {
			resp, err = nil, fmt.Errorf("panic applying the batch: %v", r)
		}
	}()
	return apply()
}
