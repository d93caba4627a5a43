package export_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"prodays"
	"prodays/export"
	"prodays/internal/fixture"
)

var (
	supCS  = prodays.Scope{Role: prodays.RoleSupervisor, RegionCode: "CS"}
	supTTA = prodays.Scope{Role: prodays.RoleSupervisor, RegionCode: "TTA"}
)

// A day sheet of an establishment holds the activities of the caller's
// scope, by the activity's region: ETTA1 organises ACT03 in TTA and ACT04
// in CS on 2026-03-22.
func TestSheetActivitiesScope(t *testing.T) {
	db := fixture.OpenCrossRegion(t)
	ctx := context.Background()
	for _, tc := range []struct {
		f    export.Filter
		want []string
		code string
	}{
		{export.Filter{Scope: prodays.AdminScope(), Date: "2026-03-22", EstablishmentCode: "ETTA1"}, []string{"ACT03", "ACT04"}, ""},
		{export.Filter{Scope: supTTA, Date: "2026-03-22", EstablishmentCode: "ETTA1"}, []string{"ACT03"}, ""},
		{export.Filter{Scope: supCS, Date: "2026-03-22", EstablishmentCode: "ETTA1"}, []string{"ACT04"}, ""},
		{export.Filter{Scope: supCS, Date: "2026-03-21", EstablishmentCode: "ECS2"}, nil, prodays.ENotFound}, // ACT02 is RSK's
		{export.Filter{Scope: supCS, Date: "2026-03-22", RegionCode: "CS"}, []string{"ACT04"}, ""},
		{export.Filter{Scope: supCS, ActivityID: "ACT04"}, []string{"ACT04"}, ""},
		{export.Filter{Scope: supCS, ActivityID: "ACT02"}, nil, prodays.EForbidden},
		{export.Filter{Scope: supCS, ActivityID: "NOPE"}, nil, prodays.ENotFound},
		{export.Filter{Date: "2026-03-22", EstablishmentCode: "ETTA1"}, nil, prodays.ENotFound}, // the zero scope sees nothing
	} {
		acts, err := export.SheetActivities(ctx, db, tc.f)
		var got []string
		for _, a := range acts {
			got = append(got, a.ID)
		}
		if prodays.ErrorCode(err) != tc.code || !slices.Equal(got, tc.want) {
			t.Errorf("%+v: got %v %v, want %v %q", tc.f, got, err, tc.want, tc.code)
		}
	}
}

// Badges: trainees by their establishment's region, speakers by the
// activity's; a certificate lists the activities of the caller's region
// and says so.
func TestDocumentsScope(t *testing.T) {
	db := fixture.OpenCrossRegion(t)
	ctx := context.Background()
	for _, tc := range []struct {
		f    export.BadgeFilter
		code string
	}{
		{export.BadgeFilter{Scope: supCS, EstablishmentCode: "ECS2"}, ""},
		{export.BadgeFilter{Scope: supCS, EstablishmentCode: "ETTA1"}, prodays.EForbidden},
		{export.BadgeFilter{Scope: supCS, Speakers: true, ActivityID: "ACT01"}, ""},
		{export.BadgeFilter{Scope: supCS, Speakers: true, ActivityID: "ACT03"}, prodays.EForbidden},
		{export.BadgeFilter{EstablishmentCode: "ECS1"}, prodays.EForbidden},
		{export.BadgeFilter{Scope: supCS}, prodays.EInvalid},
	} {
		if _, err := export.CheckBadges(ctx, db, tc.f); prodays.ErrorCode(err) != tc.code {
			t.Errorf("%+v: got %v, want %q", tc.f, err, tc.code)
		}
	}
	if err := export.CheckCertificate(ctx, db, supTTA, "TRN11"); prodays.ErrorCode(err) != prodays.EForbidden {
		t.Errorf("certificate of a CS trainee for TTA: %v", err)
	}
	var buf bytes.Buffer
	if err := export.WriteCertificatePDF(ctx, db, &buf, supCS, "TRN11", now); err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, "certificate-TRN11-CS.pdf", buf.Bytes())
	mustContain(t, text, "Rencontre ACT01", "Liste limitée aux activités de la région", "Total : 1 activité(s).")
	if strings.Contains(text, "ACT03") {
		t.Errorf("the CS certificate lists ACT03, a TTA meeting:\n%s", text)
	}
	buf.Reset()
	if err := export.WriteCertificatePDF(ctx, db, &buf, prodays.AdminScope(), "TRN11", now); err != nil {
		t.Fatal(err)
	}
	text = pdfText(t, "certificate-TRN11.pdf", buf.Bytes())
	mustContain(t, text, "Rencontre ACT01", "Rencontre ACT03", "Total : 2 activité(s).")
	if strings.Contains(text, "Liste limitée") {
		t.Errorf("the admin's certificate says it is limited")
	}
}
