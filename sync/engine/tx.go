package engine

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

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

// resetCaches empties the per-batch caches (a new batch of a group, or a
// batch rolled back to its savepoint).
func (t *txc) resetCaches() {
	t.acts = map[string]*activity{}
	t.persons = map[string]*personRow{}
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

// each runs query q with args in the transaction and calls fn for every
// row, closing the rows; it returns the first error of the query, of fn or
// of the iteration.
func (t *txc) each(fn func(*sql.Rows) error, q string, args ...any) error {
	rows, err := t.QueryContext(t.ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
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

// withTx runs fn in one write transaction with a statement cache. The
// clock is read once, when the transaction has begun (it holds the write
// lock): every time the transaction writes is that t.now, and the times of
// successive transactions follow their commit order.
func (e *Engine) withTx(ctx context.Context, fn func(t *txc) error) error {
	var learn []string
	err := e.DB.WithTx(ctx, func(tx *sql.Tx) error {
		t := newTxc(e, ctx, tx, e.now())
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
