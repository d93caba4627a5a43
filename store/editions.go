package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"prodays"
)

// MaxEditionDays is the longest edition, start and end included.
const MaxEditionDays = 31

// Text rules of an edition's fields (prodays.CheckText).
var (
	editionNameRule = prodays.TextRule{Max: 100}
	themeRule       = prodays.TextRule{Max: 300}
)

// EditionChange is prodays.EditionChange.
type EditionChange = prodays.EditionChange

// applyEdition validates ch over e: a name (at most 100 characters, unique, see
// editionNameTaken), a theme of at most 300, dates YYYY-MM-DD, the end not
// before the start, at most MaxEditionDays days. Errors: EInvalid naming
// the field.
func applyEdition(ch EditionChange, e *prodays.Edition) error {
	var err error
	if ch.Name != nil {
		e.Name = *ch.Name
	}
	if e.Name, err = prodays.CheckText("name", e.Name, editionNameRule); err != nil {
		return err
	}
	if e.Name == "" {
		return prodays.Errorf(prodays.EInvalid, "name: required.")
	}
	if ch.Theme != nil {
		e.Theme = *ch.Theme
	}
	if e.Theme, err = prodays.CheckText("theme", e.Theme, themeRule); err != nil {
		return err
	}
	if ch.StartDate != nil {
		e.StartDate = strings.TrimSpace(*ch.StartDate)
	}
	if ch.EndDate != nil {
		e.EndDate = strings.TrimSpace(*ch.EndDate)
	}
	start, err := time.Parse(time.DateOnly, e.StartDate)
	if err != nil {
		return prodays.Errorf(prodays.EInvalid, "start_date: a date YYYY-MM-DD.")
	}
	end, err := time.Parse(time.DateOnly, e.EndDate)
	if err != nil {
		return prodays.Errorf(prodays.EInvalid, "end_date: a date YYYY-MM-DD.")
	}
	if end.Before(start) {
		return prodays.Errorf(prodays.EInvalid, "end_date: before start_date.")
	}
	if end.Sub(start) >= MaxEditionDays*24*time.Hour {
		return prodays.Errorf(prodays.EInvalid, "end_date: an edition lasts at most %d days.", MaxEditionDays)
	}
	return nil
}

const editionColumns = `id, name, theme, start_date, end_date`

// scanEdition reads an editions row selected with editionColumns.
func scanEdition(row interface{ Scan(...any) error }) (*prodays.Edition, error) {
	var e prodays.Edition
	if err := row.Scan(&e.ID, &e.Name, &e.Theme, &e.StartDate, &e.EndDate); err != nil {
		return nil, err
	}
	return &e, nil
}

// ListEditions returns every edition, latest first.
func (db *DB) ListEditions(ctx context.Context) ([]*prodays.Edition, error) {
	rows, err := db.Read.QueryContext(ctx, `SELECT `+editionColumns+` FROM editions ORDER BY start_date DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list editions: %w", err)
	}
	defer rows.Close()
	out := []*prodays.Edition{}
	for rows.Next() {
		e, err := scanEdition(rows)
		if err != nil {
			return nil, fmt.Errorf("list editions: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// getEdition returns edition id read through q. Errors: ENotFound.
func getEdition(ctx context.Context, q Execer, id int64) (*prodays.Edition, error) {
	e, err := scanEdition(q.QueryRowContext(ctx, `SELECT `+editionColumns+` FROM editions WHERE id = ?`, id))
	return oneRow(e, err, prodays.Errorf(prodays.ENotFound, "No edition %d.", id), fmt.Sprintf("get edition %d", id))
}

// editionNameTaken returns EConflict when an edition other than id is
// called name.
func editionNameTaken(ctx context.Context, q Execer, name string, id int64) error {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM editions WHERE name = ? AND id <> ?`, name, id).Scan(&n); err != nil {
		return fmt.Errorf("edition name %q: %w", name, err)
	}
	if n > 0 {
		return prodays.Errorf(prodays.EConflict, "name: an edition is already called %q.", name)
	}
	return nil
}

// CreateEdition adds the edition ch describes (every field but the theme
// required, see EditionChange) and returns it with its id. Audited as
// edition.create (by ctx's Actor). Errors: EInvalid naming the field,
// EConflict when the name is taken.
func (db *DB) CreateEdition(ctx context.Context, ch EditionChange) (*prodays.Edition, error) {
	var e prodays.Edition
	if err := applyEdition(ch, &e); err != nil {
		return nil, err
	}
	now := db.Now()
	err := db.WithTx(ctx, func(tx *sql.Tx) error {
		if err := editionNameTaken(ctx, tx, e.Name, 0); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO editions (name, theme, start_date, end_date, created_at) VALUES (?, ?, ?, ?, ?)`,
			e.Name, e.Theme, e.StartDate, e.EndDate, FormatTime(now))
		if err != nil {
			return fmt.Errorf("insert edition: %w", err)
		}
		if e.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("insert edition: %w", err)
		}
		return Audit(ctx, tx, now, AuditEntry{Action: "edition.create", Target: strconv.FormatInt(e.ID, 10),
			Detail: map[string]any{"name": e.Name, "start_date": e.StartDate, "end_date": e.EndDate}})
	})
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// UpdateEdition applies ch to edition id (EditionChange's rules) and
// returns it. Audited as edition.update with the edition before and
// after. Errors: ENotFound, EInvalid naming the field, EConflict when the
// name is taken.
func (db *DB) UpdateEdition(ctx context.Context, id int64, ch EditionChange) (*prodays.Edition, error) {
	now := db.Now()
	var e *prodays.Edition
	err := db.WithTx(ctx, func(tx *sql.Tx) error {
		var err error
		if e, err = getEdition(ctx, tx, id); err != nil {
			return err
		}
		old := *e
		if err := applyEdition(ch, e); err != nil {
			return err
		}
		if err := editionNameTaken(ctx, tx, e.Name, e.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE editions SET name = ?, theme = ?, start_date = ?, end_date = ? WHERE id = ?`,
			e.Name, e.Theme, e.StartDate, e.EndDate, e.ID); err != nil {
			return fmt.Errorf("update edition %d: %w", e.ID, err)
		}
		return Audit(ctx, tx, now, AuditEntry{Action: "edition.update", Target: strconv.FormatInt(id, 10),
			Detail: map[string]any{"from": old, "to": *e}})
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}
