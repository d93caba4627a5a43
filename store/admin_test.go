package store_test

import (
	"testing"

	"prodays"
	"prodays/store"
)

func ptr[T any](v T) *T { return &v }

func TestUpdateUserRules(t *testing.T) {
	db, ctx := openDB(t)
	ctx = store.WithActor(ctx, store.Actor{Username: "root"})
	if _, err := db.Write.Exec(`INSERT INTO establishments (code, name, region_code) VALUES ('E1', 'ISTA', 'TTA')`); err != nil {
		t.Fatal(err)
	}
	for _, u := range []prodays.User{
		{Username: "root", Role: prodays.RoleAdmin},
		{Username: "s.staff", Role: prodays.RoleStaff, EstablishmentCode: "E1"},
	} {
		if _, err := db.CreateUser(ctx, u, "", "cli"); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name     string
		username string
		ch       store.UserChange
		code     string
	}{
		{"last admin disabled", "root", store.UserChange{Disabled: ptr(true)}, prodays.EConflict},
		{"last admin demoted", "root", store.UserChange{Role: ptr("supervisor"), RegionCode: ptr("TTA")}, prodays.EConflict},
		{"bad role", "s.staff", store.UserChange{Role: ptr("root")}, prodays.EInvalid},
		{"unknown establishment", "s.staff", store.UserChange{EstablishmentCode: ptr("NOPE")}, prodays.EInvalid},
		{"region of another establishment", "s.staff", store.UserChange{RegionCode: ptr("CS")}, prodays.EInvalid},
		{"control character in the name", "s.staff", store.UserChange{FullName: ptr("A\x1b[2J")}, prodays.EInvalid},
		{"unknown user", "ghost", store.UserChange{FullName: ptr("x")}, prodays.ENotFound},
		{"no change", "s.staff", store.UserChange{RegionCode: ptr("TTA")}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := db.UpdateUser(ctx, tc.username, tc.ch); prodays.ErrorCode(err) != tc.code {
				t.Errorf("UpdateUser(%s): got %v, want code %q", tc.username, err, tc.code)
			}
		})
	}
	// A second admin: the first may now step down; a scope change bumps
	// scope_version.
	if _, err := db.CreateUser(ctx, prodays.User{Username: "root2", Role: prodays.RoleAdmin}, "", "cli"); err != nil {
		t.Fatal(err)
	}
	a, err := db.UpdateUser(ctx, "root", store.UserChange{Role: ptr("supervisor"), RegionCode: ptr("TTA")})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := a.ScopeVersion, int64(2); got != want || a.RegionCode != "TTA" {
		t.Errorf("demoted admin: got scope_version %d, region %q; want %d, TTA", got, a.RegionCode, want)
	}
	if _, err := db.UpdateUser(ctx, "root2", store.UserChange{Disabled: ptr(true)}); prodays.ErrorCode(err) != prodays.EConflict {
		t.Errorf("disabling the last admin left: got %v, want conflict", err)
	}
}

func TestEditionRules(t *testing.T) {
	db, ctx := openDB(t)
	first, err := db.CreateEdition(ctx, store.EditionChange{Name: ptr("Pro'Days 2026"), StartDate: ptr("2026-03-02"), EndDate: ptr("2026-03-06")})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		ch   store.EditionChange
		code string
	}{
		{"no name", store.EditionChange{StartDate: ptr("2026-03-02"), EndDate: ptr("2026-03-06")}, prodays.EInvalid},
		{"name taken", store.EditionChange{Name: ptr("Pro'Days 2026"), StartDate: ptr("2027-03-02"), EndDate: ptr("2027-03-06")}, prodays.EConflict},
		{"bad date", store.EditionChange{Name: ptr("B"), StartDate: ptr("2027-3-2"), EndDate: ptr("2027-03-06")}, prodays.EInvalid},
		{"end before start", store.EditionChange{Name: ptr("C"), StartDate: ptr("2027-03-06"), EndDate: ptr("2027-03-02")}, prodays.EInvalid},
		{"too long", store.EditionChange{Name: ptr("D"), StartDate: ptr("2027-03-01"), EndDate: ptr("2027-04-01")}, prodays.EInvalid},
		{"longest", store.EditionChange{Name: ptr("E"), StartDate: ptr("2027-03-01"), EndDate: ptr("2027-03-31")}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := db.CreateEdition(ctx, tc.ch); prodays.ErrorCode(err) != tc.code {
				t.Errorf("CreateEdition: got %v, want code %q", err, tc.code)
			}
		})
	}
	e, err := db.UpdateEdition(ctx, first.ID, store.EditionChange{Theme: ptr("Métiers")})
	if err != nil || e.Name != "Pro'Days 2026" || e.Theme != "Métiers" {
		t.Errorf("UpdateEdition: got %+v, %v; want the name kept and the theme set", e, err)
	}
	if _, err := db.UpdateEdition(ctx, 999, store.EditionChange{}); prodays.ErrorCode(err) != prodays.ENotFound {
		t.Errorf("UpdateEdition(999): got %v, want not_found", err)
	}
	eds, err := db.ListEditions(ctx)
	if err != nil || len(eds) != 2 || eds[0].Name != "E" {
		t.Errorf("ListEditions: got %v, %v; want E then Pro'Days 2026", eds, err)
	}
}
