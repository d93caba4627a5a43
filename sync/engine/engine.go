// Package engine is the SQLite-backed sync engine of prodays: it applies
// pushed mutations (the batches waiting for the writer in one write
// transaction, each in its own savepoint, answered only after commit), serves pulls from the change log, and carries out the
// supervisors' review decisions. The rules themselves live in
// sync/protocol; this package stores their inputs and materialises their
// results (attendance, flags, conflicts, merge proposals, change log).
package engine

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"prodays"
	"prodays/store"
)

// Engine applies the sync protocol to a store.DB. Create it with New.
type Engine struct {
	DB *store.DB
	// stmts holds statements prepared once on the single writer
	// connection; transactions use them through tx.StmtContext, which
	// reuses the connection's prepared statement (no parse per batch).
	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt
	Logger *slog.Logger
	// Group bounds the group commit of pushes (group.go); New sets the
	// defaults, a zero MaxMutations turns grouping off.
	Group GroupOptions
	gq    groupQueue
}

// New returns an engine on db, logging to slog.Default (set Logger to
// change it). It fails only when db is nil.
func New(db *store.DB) (*Engine, error) {
	if db == nil {
		return nil, errors.New("sync engine: no database")
	}
	return &Engine{DB: db, Logger: slog.Default(),
		Group: GroupOptions{MaxMutations: DefaultGroupMaxMutations, MaxWait: DefaultGroupMaxWait}}, nil
}

func (e *Engine) now() time.Time {
	if e.DB.Now != nil {
		return e.DB.Now()
	}
	return time.Now()
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
