package engine_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"prodays"
	"prodays/internal/synctest"
	"prodays/sync/engine"
)

// checkedInA1 is the seeded engine after staff1, on phone dev-a, checked
// in the first trainee of E1 at A1.
func checkedInA1(t *testing.T) *engine.Engine {
	e := mustEngine(t)
	push(t, e, synctest.Principal("staff1", "dev-a"), synctest.NewPhone("dev-a", eventNow.Add(-time.Hour)).CheckIn("A1", "trainee", synctest.TraineesE1[0]))
	return e
}

func TestActivitiesOfDay(t *testing.T) {
	e, ctx := checkedInA1(t), context.Background()
	for _, tc := range []struct {
		who, date, want string
	}{
		{"admin", synctest.Date, "A1:1 A3:0 B1:0"},
		{"sup1", synctest.Date, "A1:1"}, // A3 takes place in TTA, organised by E2 of RSK
		{"sup3", synctest.Date, "B1:0"},
		{"sup1", "2026-03-24", "A2:0"},
		{"sup1", "2026-03-25", ""},
	} {
		t.Run(tc.who+" "+tc.date, func(t *testing.T) {
			as, err := e.ActivitiesOfDay(ctx, synctest.Principal(tc.who, "d"), tc.date)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			for i, a := range as {
				if i > 0 {
					got += " "
				}
				got += fmt.Sprintf("%s:%d", a.ID, a.Present)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	if _, err := e.ActivitiesOfDay(ctx, synctest.Principal("admin", "d"), "23/03/2026"); prodays.ErrorCode(err) != prodays.EInvalid {
		t.Errorf("bad date: got %v, want invalid", err)
	}
}

// TestNamedActivitiesOfDay: the activities of ActivitiesOfDay, each with
// its establishment's name and its visited company (none for a meeting).
func TestNamedActivitiesOfDay(t *testing.T) {
	e, ctx := checkedInA1(t), context.Background()
	admin := synctest.Principal("admin", "d")
	plain, err := e.ActivitiesOfDay(ctx, admin, synctest.Date)
	if err != nil {
		t.Fatal(err)
	}
	named, err := e.NamedActivitiesOfDay(ctx, admin, synctest.Date)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ISTA Rabat//", "ITA Salé/C1/Renault", "ISTA Anfa//"}
	if len(named) != len(want) || len(plain) != len(want) {
		t.Fatalf("got %d named and %d plain activities, want %d", len(named), len(plain), len(want))
	}
	for i := range want {
		n := named[i].ActivityNames
		if got := n.EstablishmentName + "/" + n.CompanyID + "/" + n.CompanyName; named[i].ActivityOfDay != plain[i] || got != want[i] {
			t.Errorf("activity %d: got %+v named %q, want %+v named %q", i, named[i].ActivityOfDay, got, plain[i], want[i])
		}
	}
}

func TestDeviceOwner(t *testing.T) {
	e, ctx := checkedInA1(t), context.Background()
	p, err := e.DeviceOwner(ctx, "dev-a")
	if err != nil {
		t.Fatal(err)
	}
	want := prodays.Principal{Username: "staff1", DeviceID: "dev-a", Scope: prodays.Scope{Role: "staff", EstablishmentCode: "E1", RegionCode: "RSK"}}
	if *p != want {
		t.Errorf("got %+v, want %+v", *p, want)
	}
	if _, err := e.DeviceOwner(ctx, "never-seen"); prodays.ErrorCode(err) != prodays.ENotFound {
		t.Errorf("unknown device: got %v, want not_found", err)
	}
}
