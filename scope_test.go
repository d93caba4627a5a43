package prodays_test

import (
	"testing"

	"prodays"
)

func TestScopeReviewsRegion(t *testing.T) {
	admin := prodays.AdminScope()
	sup := prodays.Scope{Role: prodays.RoleSupervisor, RegionCode: "CS"}
	staff := prodays.Scope{Role: prodays.RoleStaff, EstablishmentCode: "E1", RegionCode: "CS"}
	for _, tc := range []struct {
		name   string
		s      prodays.Scope
		region string
		want   bool
	}{
		{"admin", admin, "TTA", true},
		{"admin, no region", admin, "", true},
		{"supervisor, own", sup, "CS", true},
		{"supervisor, other", sup, "TTA", false},
		{"supervisor, no region", sup, "", false},
		{"supervisor without a region", prodays.Scope{Role: prodays.RoleSupervisor}, "", false},
		{"staff, own region", staff, "CS", false},
		{"no role", prodays.Scope{RegionCode: "CS"}, "CS", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.ReviewsRegion(tc.region); got != tc.want {
				t.Errorf("%+v.ReviewsRegion(%q): got %v, want %v", tc.s, tc.region, got, tc.want)
			}
		})
	}
}

func TestScopeReportRegion(t *testing.T) {
	admin := prodays.AdminScope()
	sup := prodays.Scope{Role: prodays.RoleSupervisor, RegionCode: "CS"}
	for _, tc := range []struct {
		name   string
		s      prodays.Scope
		asked  string
		want   string
		wantEr string
	}{
		{"admin, all", admin, "", "", ""},
		{"admin, one", admin, "TTA", "TTA", ""},
		{"supervisor, all", sup, "", "CS", ""},
		{"supervisor, own", sup, "CS", "CS", ""},
		{"supervisor, other", sup, "TTA", "", prodays.EForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.s.ReportRegion(tc.asked)
			if got != tc.want || prodays.ErrorCode(err) != tc.wantEr {
				t.Errorf("%+v.ReportRegion(%q): got %q, %v; want %q, code %q", tc.s, tc.asked, got, err, tc.want, tc.wantEr)
			}
		})
	}
}
