package report_test

import (
	"context"
	"slices"
	"testing"

	"prodays"
	"prodays/internal/dbtest"
	"prodays/internal/fixture"
	"prodays/report"
	"prodays/store"
)

// scopes returns every kind of scope over the regions and establishments
// of db: admin, a supervisor of each region (and one without a region),
// staff of each establishment (and without one), the zero scope and an
// unknown role.
func scopes(t *testing.T, db *store.DB) []prodays.Scope {
	t.Helper()
	out := []prodays.Scope{prodays.AdminScope(), {}, {Role: "auditor", RegionCode: "CS", EstablishmentCode: "ECS1"},
		{Role: prodays.RoleSupervisor}, {Role: prodays.RoleStaff, RegionCode: "CS"}}
	rows, err := db.Read.Query(`SELECT r.code, COALESCE(e.code, '') FROM regions r LEFT JOIN establishments e ON e.region_code = r.code`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var region, est string
		if err := rows.Scan(&region, &est); err != nil {
			t.Fatal(err)
		}
		sup := prodays.Scope{Role: prodays.RoleSupervisor, RegionCode: region}
		if !slices.Contains(out, sup) {
			out = append(out, sup)
		}
		if est != "" {
			out = append(out, prodays.Scope{Role: prodays.RoleStaff, EstablishmentCode: est, RegionCode: region})
		}
	}
	return out
}

// ids runs a one-column query and returns its values, sorted.
func ids(t *testing.T, db *store.DB, q string, args ...any) []string {
	t.Helper()
	out := dbtest.Rows(t, db, dbtest.String, q, args...)
	slices.Sort(out)
	return out
}

// The SQL forms of the scope rules keep exactly the rows the domain's
// predicates accept, for every kind of scope, on data where activities
// take place outside their establishment's region.
func TestScopeSQLMatchesDomain(t *testing.T) {
	db := fixture.OpenCrossRegion(t)
	type act struct{ id, region, est string }
	acts := dbtest.Rows(t, db, func(r store.Scanner) (act, error) {
		var a act
		err := r.Scan(&a.id, &a.region, &a.est)
		return a, err
	}, `SELECT id, region_code, establishment_code FROM activities`)
	type trainee struct{ id, region string }
	trainees := dbtest.Rows(t, db, func(r store.Scanner) (trainee, error) {
		var x trainee
		err := r.Scan(&x.id, &x.region)
		return x, err
	}, `SELECT t.id, e.region_code FROM trainees t JOIN establishments e ON e.code = t.establishment_code`)

	for _, s := range scopes(t, db) {
		var want []string
		for _, a := range acts {
			if s.SeesActivity(a.region, a.est) {
				want = append(want, a.id)
			}
		}
		slices.Sort(want)
		cond, args := report.ActivityScope(s)
		if got := ids(t, db, `SELECT a.id FROM activities a WHERE `+cond, args...); !slices.Equal(got, want) {
			t.Errorf("%+v: ActivityScope keeps %v, SeesActivity %v", s, got, want)
		}

		want = nil
		for _, x := range trainees {
			if s.SeesTrainee(x.region) {
				want = append(want, x.id)
			}
		}
		slices.Sort(want)
		cond, args = report.TraineeScope(s)
		if got := ids(t, db, `SELECT t.id FROM trainees t JOIN establishments e ON e.code = t.establishment_code WHERE `+cond, args...); !slices.Equal(got, want) {
			t.Errorf("%+v: TraineeScope keeps %v, SeesTrainee %v", s, got, want)
		}
	}
}

// A supervisor's bilan counts the participations of the activities that
// take place in their region: the visit that an establishment of CS
// organises in RSK is RSK's, the one that a TTA establishment organises in
// CS is CS's. The zero scope counts nothing.
func TestBilanScope(t *testing.T) {
	db := fixture.OpenCrossRegion(t)
	ctx := context.Background()
	ed1 := int64(1)
	for _, tc := range []struct {
		scope                 prodays.Scope
		meetings, visits      int
		perRegion             []string
		meetingsListed, heldV int
	}{
		{prodays.AdminScope(), 7, 4, []string{"BMK", "CS", "DOE", "DT", "FM", "GON", "LSH", "MS", "ORI", "RSK", "SM", "TTA"}, 4, 2},
		{prodays.Scope{Role: prodays.RoleSupervisor, RegionCode: "CS"}, 2, 2, []string{"CS"}, 1, 1},   // ACT01, ACT04
		{prodays.Scope{Role: prodays.RoleSupervisor, RegionCode: "RSK"}, 1, 2, []string{"RSK"}, 1, 1}, // ACT05, ACT02
		{prodays.Scope{Role: prodays.RoleSupervisor, RegionCode: "TTA"}, 4, 0, []string{"TTA"}, 2, 0}, // ACT03, ACT06
		{prodays.Scope{Role: prodays.RoleStaff, RegionCode: "TTA", EstablishmentCode: "ETTA1"}, 2, 2, []string{"CS", "TTA"}, 1, 1},
		{prodays.Scope{}, 0, 0, nil, 0, 0},
	} {
		b, err := report.Bilan(ctx, db, report.Filter{Scope: tc.scope, EditionID: &ed1})
		if err != nil {
			t.Fatal(err)
		}
		var regions []string
		for r := range b.PerRegion {
			regions = append(regions, r)
		}
		slices.Sort(regions)
		if b.MeetingParticipations != tc.meetings || b.VisitParticipations != tc.visits || !slices.Equal(regions, tc.perRegion) ||
			b.MeetingsListed != tc.meetingsListed || b.VisitsHeld != tc.heldV {
			t.Errorf("%+v: got meetings %d visits %d regions %v listed %d held visits %d, want %d %d %v %d %d", tc.scope,
				b.MeetingParticipations, b.VisitParticipations, regions, b.MeetingsListed, b.VisitsHeld,
				tc.meetings, tc.visits, tc.perRegion, tc.meetingsListed, tc.heldV)
		}
	}
}
