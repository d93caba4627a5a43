// Package report computes the figures of a Pro'Days edition — the "bilan"
// the office publishes in its press release — from the materialised
// presence (the attendance table, present = 1) and the roster.
//
// The rule is the one behind the office's expected.json: a participation is
// a present (trainee, activity) pair; an activity is held when it has at
// least one; the day of a participation is its activity's date and its
// region the activity's region_code, never a phone's clock. Persons that are
// not (or no longer) in the roster — unknown ids, merged walk-ins — do not
// count.
package report

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"prodays"
	"prodays/store"
)

// Filter is prodays.BilanFilter.
type Filter = prodays.BilanFilter

// Counts is prodays.ParticipationCounts.
type Counts = prodays.ParticipationCounts

// Figures is prodays.Figures.
type Figures = prodays.Figures

// scope builds the SQL condition on activities alias a for f, with its
// arguments. It returns the edition when f names one.
func scope(ctx context.Context, db *store.DB, f Filter) (cond string, args []any, ed *prodays.Edition, err error) {
	sc, args := ActivityScope(f.Scope)
	conds := []string{sc}
	if f.EditionID != nil {
		ed, err = LoadEdition(ctx, db, *f.EditionID)
		if err != nil {
			return "", nil, nil, err
		}
		conds = append(conds, "(a.edition_id = ? OR (a.edition_id IS NULL AND a.date BETWEEN ? AND ?))")
		args = append(args, ed.ID, ed.StartDate, ed.EndDate)
	}
	if f.RegionCode != "" {
		conds = append(conds, "a.region_code = ?")
		args = append(args, f.RegionCode)
	}
	return strings.Join(conds, " AND "), args, ed, nil
}

// LoadEdition reads edition id; an unknown id is a not_found *prodays.Error.
func LoadEdition(ctx context.Context, db *store.DB, id int64) (*prodays.Edition, error) {
	var e prodays.Edition
	err := db.Read.QueryRowContext(ctx, `SELECT id, name, theme, start_date, end_date FROM editions WHERE id = ?`, id).
		Scan(&e.ID, &e.Name, &e.Theme, &e.StartDate, &e.EndDate)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, prodays.Errorf(prodays.ENotFound, "No edition %d.", id)
	} else if err != nil {
		return nil, fmt.Errorf("load edition %d: %w", id, err)
	}
	return &e, nil
}

// Bilan computes the figures of the activities f selects, in one read
// transaction (a consistent snapshot while phones keep syncing). Errors:
// not_found for an unknown edition; anything else is internal.
func Bilan(ctx context.Context, db *store.DB, f Filter) (*Figures, error) {
	cond, args, ed, err := scope(ctx, db, f)
	if err != nil {
		return nil, err
	}
	tx, err := db.Read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("bilan: %w", err)
	}
	defer tx.Rollback()

	b := &Figures{Edition: ed, RegionCode: f.RegionCode, PerRegion: map[string]Counts{}, PerDay: map[string]Counts{}}

	// Present trainee participations of the selected activities.
	tp := `SELECT a.id AS activity_id, a.kind, a.date, a.region_code, a.company_id, t.id AS trainee_id, t.establishment_code
		FROM attendance att
		JOIN activities a ON a.id = att.activity_id
		JOIN trainees t ON t.id = att.person_id AND t.deleted = 0
		WHERE att.person_kind = 'trainee' AND att.present = 1 AND ` + cond
	sp := `SELECT att.activity_id, s.id AS speaker_id, s.organization_id
		FROM attendance att
		JOIN activities a ON a.id = att.activity_id
		JOIN speakers s ON s.id = att.person_id
		WHERE att.person_kind = 'speaker' AND att.present = 1 AND ` + cond

	q := `WITH tp AS (` + tp + `), sp AS (` + sp + `)
		SELECT
		 (SELECT count(*) FROM tp WHERE kind = 'meeting'),
		 (SELECT count(*) FROM tp WHERE kind = 'company_visit'),
		 (SELECT count(DISTINCT trainee_id) FROM tp WHERE kind = 'meeting'),
		 (SELECT count(DISTINCT trainee_id) FROM tp WHERE kind = 'company_visit'),
		 (SELECT count(DISTINCT trainee_id) FROM tp),
		 (SELECT count(DISTINCT speaker_id) FROM sp),
		 (SELECT count(*) FROM sp),
		 (SELECT count(DISTINCT organization_id) FROM sp),
		 (SELECT count(DISTINCT activity_id) FROM tp WHERE kind = 'meeting'),
		 (SELECT count(*) FROM activities a WHERE a.kind = 'meeting' AND ` + cond + `),
		 (SELECT count(DISTINCT activity_id) FROM tp WHERE kind = 'company_visit'),
		 (SELECT count(*) FROM activities a WHERE a.kind = 'company_visit' AND ` + cond + `),
		 (SELECT count(DISTINCT company_id) FROM tp WHERE kind = 'company_visit'),
		 (SELECT count(DISTINCT establishment_code) FROM tp WHERE kind = 'company_visit')`
	all := append(append(append(append([]any{}, args...), args...), args...), args...)
	err = tx.QueryRowContext(ctx, q, all...).Scan(
		&b.MeetingParticipations, &b.VisitParticipations,
		&b.DistinctTraineesMeetings, &b.DistinctTraineesVisits, &b.DistinctTrainees,
		&b.SpeakersPresent, &b.SpeakerParticipations, &b.OrganizationsRepresented,
		&b.MeetingsHeld, &b.MeetingsListed, &b.VisitsHeld, &b.VisitsListed,
		&b.CompaniesVisited, &b.VisitEstablishments)
	if err != nil {
		return nil, fmt.Errorf("bilan totals: %w", err)
	}
	b.Beneficiaries = b.MeetingParticipations + b.VisitParticipations

	// Zero rows for every region the bilan may show (the filtered one, the
	// supervisor's, the regions of a staff's activities, every region for
	// an admin) and every day.
	regions := `SELECT code FROM regions`
	var rargs []any
	switch {
	case f.RegionCode != "":
		regions += ` WHERE code = ?`
		rargs = append(rargs, f.RegionCode)
	case f.Scope.Role == prodays.RoleSupervisor:
		regions += ` WHERE code = ?`
		rargs = append(rargs, f.Scope.RegionCode)
	case f.Scope.Role != prodays.RoleAdmin:
		sc, sargs := ActivityScope(f.Scope)
		regions += ` WHERE code IN (SELECT a.region_code FROM activities a WHERE ` + sc + `)`
		rargs = append(rargs, sargs...)
	}
	if err := eachString(ctx, tx, regions, rargs, func(code string) { b.PerRegion[code] = Counts{} }); err != nil {
		return nil, err
	}
	if err := eachString(ctx, tx, `SELECT DISTINCT a.date FROM activities a WHERE `+cond, args, func(d string) { b.PerDay[d] = Counts{} }); err != nil {
		return nil, err
	}
	if ed != nil {
		for _, d := range datesBetween(ed.StartDate, ed.EndDate) {
			b.PerDay[d] = Counts{}
		}
	}

	rows, err := tx.QueryContext(ctx, `SELECT region_code, date, kind, count(*) FROM (`+tp+`) GROUP BY region_code, date, kind`, args...)
	if err != nil {
		return nil, fmt.Errorf("bilan breakdown: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var region, date, kind string
		var n int
		if err := rows.Scan(&region, &date, &kind, &n); err != nil {
			return nil, fmt.Errorf("bilan breakdown: %w", err)
		}
		r, d := b.PerRegion[region], b.PerDay[date]
		if kind == prodays.KindMeeting {
			r.MeetingParticipations += n
			d.MeetingParticipations += n
		} else {
			r.VisitParticipations += n
			d.VisitParticipations += n
		}
		r.Beneficiaries += n
		d.Beneficiaries += n
		b.PerRegion[region], b.PerDay[date] = r, d
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("bilan breakdown: %w", err)
	}
	return b, nil
}

func eachString(ctx context.Context, tx *sql.Tx, q string, args []any, fn func(string)) error {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("bilan: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return fmt.Errorf("bilan: %w", err)
		}
		fn(s)
	}
	return rows.Err()
}

// datesBetween lists the days from..to inclusive (YYYY-MM-DD); nil when
// either does not parse or to is before from. It stops after 366 days.
func datesBetween(from, to string) []string {
	f, err1 := time.Parse(time.DateOnly, from)
	t, err2 := time.Parse(time.DateOnly, to)
	if err1 != nil || err2 != nil {
		return nil
	}
	var out []string
	for d := f; !d.After(t) && len(out) < 366; d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format(time.DateOnly))
	}
	return out
}
