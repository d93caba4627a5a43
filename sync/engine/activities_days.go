package engine

import (
	"context"
	"database/sql"
	"errors"

	"prodays"
	"prodays/report"
	"prodays/store"
	"prodays/sync/review"
)

// ActivityDays returns the dates (YYYY-MM-DD, ascending) on which p sees at
// least one activity (prodays.Scope.SeesActivity): the edition's days as
// the consoles offer them.
func (e *Engine) ActivityDays(ctx context.Context, p *prodays.Principal) ([]string, error) {
	scope, args := report.ActivityScope(p.Scope)
	days, err := store.Query(ctx, e.DB.Read, store.ScanOne[string], `SELECT DISTINCT a.date FROM activities a WHERE `+scope+` ORDER BY a.date`, args...)
	if days == nil {
		days = []string{}
	}
	return days, err
}

// NamedActivity is review.NamedActivity.
type NamedActivity = review.NamedActivity

// NamedActivitiesOfDay returns ActivitiesOfDay with the establishment's
// name and the visited company (id and name) of each activity.
func (e *Engine) NamedActivitiesOfDay(ctx context.Context, p *prodays.Principal, date string) ([]NamedActivity, error) {
	as, err := e.ActivitiesOfDay(ctx, p, date)
	if err != nil {
		return nil, err
	}
	out := make([]NamedActivity, len(as))
	for i := range as {
		out[i].ActivityOfDay = as[i]
		n := &out[i].ActivityNames
		err := e.DB.Read.QueryRowContext(ctx, `SELECT COALESCE(es.name, ''), COALESCE(a.company_id, ''), COALESCE(c.name, '')
			FROM activities a LEFT JOIN establishments es ON es.code = a.establishment_code LEFT JOIN companies c ON c.id = a.company_id
			WHERE a.id = ?`, as[i].ID).Scan(&n.EstablishmentName, &n.CompanyID, &n.CompanyName)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
	}
	return out, nil
}
