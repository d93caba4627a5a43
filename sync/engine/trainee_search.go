package engine

import (
	"context"
	"strings"

	"prodays"
	"prodays/internal/derrors"
	"prodays/store"
	"prodays/sync/review"
)

// SearchTrainees finds up to limit (1 to review.MaxTraineeHits) trainees
// of p's region (admins: all) whose matricule starts with q or whose name
// ("last first" or "first last") contains it, case-insensitive for
// ASCII, merged walk-ins excluded, by last name, first name and id: the
// console's search to attach a mistyped matricule (AttachTrainee).
// Errors: invalid (q shorter than 2 characters, a bad limit).
func (e *Engine) SearchTrainees(ctx context.Context, p *prodays.Principal, q string, limit int) (_ []TraineeHit, err error) {
	defer derrors.Wrap(&err, "engine.SearchTrainees")
	q = strings.TrimSpace(q)
	if len([]rune(q)) < 2 {
		return nil, prodays.Errorf(prodays.EInvalid, "q must have at least 2 characters.")
	}
	if limit == 0 {
		limit = review.DefaultTraineeHits
	}
	if limit < 1 || limit > review.MaxTraineeHits {
		return nil, prodays.Errorf(prodays.EInvalid, "limit must be from 1 to %d.", review.MaxTraineeHits)
	}
	like := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q)
	region := ""
	if p.Role != prodays.RoleAdmin {
		region = p.RegionCode
	}
	hits, err := store.Query(ctx, e.DB.Read, func(s store.Scanner) (TraineeHit, error) {
		var h TraineeHit
		return h, s.Scan(&h.ID, &h.LastName, &h.FirstName, &h.EstablishmentCode, &h.GroupName, &h.Program)
	}, `SELECT t.id, t.last_name, t.first_name, t.establishment_code, t.group_name, t.program
		FROM trainees t JOIN establishments e ON e.code = t.establishment_code
		WHERE t.deleted = 0 AND (? = '' OR e.region_code = ?)
		AND (t.id LIKE ? ESCAPE '\' OR t.last_name || ' ' || t.first_name LIKE ? ESCAPE '\' OR t.first_name || ' ' || t.last_name LIKE ? ESCAPE '\')
		ORDER BY t.last_name, t.first_name, t.id LIMIT ?`,
		region, region, like+"%", "%"+like+"%", "%"+like+"%", limit)
	if err != nil {
		return nil, err
	}
	if hits == nil {
		hits = []TraineeHit{}
	}
	return hits, nil
}
