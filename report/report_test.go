package report_test

import (
	"context"
	"prodays/internal/dbtest"
	"reflect"
	"testing"

	"prodays"
	"prodays/internal/fixture"
	"prodays/report"
	"prodays/store"
)

func loadFixture(tb testing.TB, db *store.DB) { fixture.Base(tb, db) }

func zeroRegions(except map[string]report.Counts) map[string]report.Counts {
	m := map[string]report.Counts{}
	for _, r := range []string{"TTA", "ORI", "FM", "RSK", "BMK", "CS", "MS", "DT", "SM", "GON", "LSH", "DOE"} {
		m[r] = report.Counts{}
	}
	for k, v := range except {
		m[k] = v
	}
	return m
}

func TestBilanFixture(t *testing.T) {
	db := dbtest.Open(t)
	loadFixture(t, db)
	ed1 := int64(1)
	c := func(m, v int) report.Counts {
		return report.Counts{MeetingParticipations: m, VisitParticipations: v, Beneficiaries: m + v}
	}
	for _, tc := range []struct {
		name string
		f    report.Filter
		want report.Figures
	}{
		{"edition 1", report.Filter{Scope: prodays.AdminScope(), EditionID: &ed1}, report.Figures{
			MeetingParticipations: 5, VisitParticipations: 4, Beneficiaries: 9,
			DistinctTraineesMeetings: 3, DistinctTraineesVisits: 3, DistinctTrainees: 4,
			SpeakersPresent: 3, SpeakerParticipations: 4, OrganizationsRepresented: 2,
			MeetingsHeld: 2, MeetingsListed: 3, VisitsHeld: 2, VisitsListed: 3,
			CompaniesVisited: 1, VisitEstablishments: 3,
			PerRegion: zeroRegions(map[string]report.Counts{"TTA": c(3, 2), "CS": c(2, 2)}),
			PerDay:    map[string]report.Counts{"2026-03-21": c(3, 2), "2026-03-22": c(2, 0), "2026-03-23": c(0, 2)},
		}},
		{"edition 1, region CS", report.Filter{Scope: prodays.AdminScope(), EditionID: &ed1, RegionCode: "CS"}, report.Figures{
			RegionCode:            "CS",
			MeetingParticipations: 2, VisitParticipations: 2, Beneficiaries: 4,
			DistinctTraineesMeetings: 2, DistinctTraineesVisits: 2, DistinctTrainees: 3,
			SpeakersPresent: 2, SpeakerParticipations: 2, OrganizationsRepresented: 2,
			MeetingsHeld: 1, MeetingsListed: 2, VisitsHeld: 1, VisitsListed: 2,
			CompaniesVisited: 1, VisitEstablishments: 2,
			PerRegion: map[string]report.Counts{"CS": c(2, 2)},
			PerDay:    map[string]report.Counts{"2026-03-21": c(0, 2), "2026-03-22": c(2, 0), "2026-03-23": c(0, 0)},
		}},
		{"everything", report.Filter{Scope: prodays.AdminScope()}, report.Figures{
			MeetingParticipations: 7, VisitParticipations: 4, Beneficiaries: 11,
			DistinctTraineesMeetings: 3, DistinctTraineesVisits: 3, DistinctTrainees: 4,
			SpeakersPresent: 3, SpeakerParticipations: 5, OrganizationsRepresented: 2,
			MeetingsHeld: 4, MeetingsListed: 5, VisitsHeld: 2, VisitsListed: 3,
			CompaniesVisited: 1, VisitEstablishments: 3,
			PerRegion: zeroRegions(map[string]report.Counts{"TTA": c(4, 2), "CS": c(3, 2)}),
			PerDay:    map[string]report.Counts{"2026-03-21": c(3, 2), "2026-03-22": c(3, 0), "2026-03-23": c(0, 2), "2026-04-10": c(1, 0)},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := report.Bilan(context.Background(), db, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			got.Edition = nil
			if !reflect.DeepEqual(*got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", *got, tc.want)
			}
		})
	}
}

func TestBilanUnknownEdition(t *testing.T) {
	db := dbtest.Open(t)
	id := int64(99)
	_, err := report.Bilan(context.Background(), db, report.Filter{Scope: prodays.AdminScope(), EditionID: &id})
	if got := prodays.ErrorCode(err); got != prodays.ENotFound {
		t.Fatalf("code: got %q, want not_found (%v)", got, err)
	}
}
