package report

import (
	"context"
	"fmt"

	"prodays"
	"prodays/store"
)

// ActivityScope is the SQL form of prodays.Scope.SeesActivity: the
// condition, on the activities table under alias a, that keeps the
// activities s may see, with its arguments. Every export and report adds
// it to its query; a scope that sees nothing gives "0".
func ActivityScope(s prodays.Scope) (string, []any) {
	switch {
	case s.Role == prodays.RoleAdmin:
		return "1", nil
	case s.Role == prodays.RoleSupervisor && s.RegionCode != "":
		return "a.region_code = ?", []any{s.RegionCode}
	case s.Role == prodays.RoleStaff && s.EstablishmentCode != "":
		return "a.establishment_code = ?", []any{s.EstablishmentCode}
	}
	return "0", nil
}

// TraineeScope is the SQL form of prodays.Scope.SeesTrainee: the
// condition, on the trainee's establishment under alias e, that keeps the
// roster trainees s may see, with its arguments.
func TraineeScope(s prodays.Scope) (string, []any) {
	switch {
	case s.Role == prodays.RoleAdmin:
		return "1", nil
	case (s.Role == prodays.RoleSupervisor || s.Role == prodays.RoleStaff) && s.RegionCode != "":
		return "e.region_code = ?", []any{s.RegionCode}
	}
	return "0", nil
}

// CheckRegion answers not_found for a region code that is not one of the
// 12 regions ("" is no filter and passes).
func CheckRegion(ctx context.Context, db *store.DB, code string) error {
	if code == "" {
		return nil
	}
	var n int
	if err := db.Read.QueryRowContext(ctx, `SELECT count(*) FROM regions WHERE code = ?`, code).Scan(&n); err != nil {
		return fmt.Errorf("region %q: %w", code, err)
	}
	if n == 0 {
		return prodays.Errorf(prodays.ENotFound, "No region %q: use one of the 12 region codes (TTA, ORI, FM, RSK, BMK, CS, MS, DT, SM, GON, LSH, DOE).", code)
	}
	return nil
}
