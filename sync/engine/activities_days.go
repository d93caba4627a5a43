package engine

import (
	"context"

	"prodays"
	"prodays/report"
	"prodays/store"
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

// NamedActivitiesOfDay returns ActivitiesOfDay with the establishment's
// name and the visited company (id and name) of each activity, in one
// query.
func (e *Engine) NamedActivitiesOfDay(ctx context.Context, p *prodays.Principal, date string) ([]NamedActivity, error) {
	return e.activitiesOfDay(ctx, p, date)
}
