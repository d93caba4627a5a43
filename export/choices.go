package export

import (
	"context"
	"fmt"

	"prodays"
	"prodays/report"
	"prodays/store"
)

// Choices is prodays.Choices.
type Choices = prodays.Choices

// ChoiceEstablishment is prodays.ChoiceEstablishment.
type ChoiceEstablishment = prodays.ChoiceEstablishment

// ListChoices returns the Choices of s: every region for an admin, their
// own for a supervisor; the dates of the activities s sees
// (prodays.Scope.SeesActivity); the establishments of the trainees s
// sees (prodays.Scope.SeesTrainee) by region and name.
func ListChoices(ctx context.Context, db *store.DB, s prodays.Scope) (*Choices, error) {
	out := &Choices{Regions: []prodays.Region{}, Days: []string{}, Establishments: []ChoiceEstablishment{}}
	regions, err := regionNames(ctx, db)
	if err != nil {
		return nil, err
	}
	for _, r := range regions {
		if s.Role == prodays.RoleAdmin || r.Code == s.RegionCode {
			out.Regions = append(out.Regions, r)
		}
	}
	as, aargs := report.ActivityScope(s)
	out.Days, err = store.Strings(ctx, db.Read, `SELECT DISTINCT a.date FROM activities a WHERE `+as+` ORDER BY a.date`, aargs...)
	if err != nil {
		return nil, fmt.Errorf("choices: %w", err)
	}
	ts, targs := report.TraineeScope(s)
	rows, err := db.Read.QueryContext(ctx, `SELECT e.code, e.name, e.region_code, COALESCE(g.group_name, '')
		FROM establishments e LEFT JOIN (SELECT DISTINCT establishment_code, group_name FROM trainees WHERE deleted = 0 AND group_name <> '') g
		ON g.establishment_code = e.code
		WHERE `+ts+` ORDER BY e.region_code, e.name, e.code, g.group_name`, targs...)
	if err != nil {
		return nil, fmt.Errorf("choices: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e ChoiceEstablishment
		var group string
		if err := rows.Scan(&e.Code, &e.Name, &e.RegionCode, &group); err != nil {
			return nil, fmt.Errorf("choices: %w", err)
		}
		if n := len(out.Establishments); n == 0 || out.Establishments[n-1].Code != e.Code {
			e.Groups = []string{}
			out.Establishments = append(out.Establishments, e)
		}
		if group != "" {
			last := &out.Establishments[len(out.Establishments)-1]
			last.Groups = append(last.Groups, group)
		}
	}
	return out, rows.Err()
}
