package engine

import (
	"context"
	"database/sql"
	"errors"

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

// activityNames are the names a console shows beside an activity's codes.
type activityNames struct {
	EstablishmentName string `json:"establishment_name"`
	CompanyID         string `json:"company_id,omitempty"`
	CompanyName       string `json:"company_name,omitempty"`
}

// nameActivities fills the activities' establishment and company names.
func (e *Engine) nameActivities(ctx context.Context, as []ActivityOfDay) ([]ActivityOfDay, error) {
	for i := range as {
		err := e.DB.Read.QueryRowContext(ctx, `SELECT COALESCE(es.name, ''), COALESCE(a.company_id, ''), COALESCE(c.name, '')
			FROM activities a LEFT JOIN establishments es ON es.code = a.establishment_code LEFT JOIN companies c ON c.id = a.company_id
			WHERE a.id = ?`, as[i].ID).Scan(&as[i].EstablishmentName, &as[i].CompanyID, &as[i].CompanyName)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
	}
	return as, nil
}
