package store_test

import (
	"testing"

	"prodays"
	"prodays/store"
)

func TestUsers(t *testing.T) {
	db, ctx := openDB(t)
	if _, err := db.Write.Exec(`INSERT INTO establishments (code, name, region_code) VALUES ('EFP0105', 'ISTA Tanger', 'TTA')`); err != nil {
		t.Fatal(err)
	}
	staff, err := db.CreateUser(ctx, prodays.User{Username: "s.staff", FullName: "Salma", Role: prodays.RoleStaff, EstablishmentCode: "EFP0105"}, "", "cli")
	if err != nil {
		t.Fatal(err)
	}
	if staff.RegionCode != "TTA" || staff.HasPassword || staff.Disabled || staff.CreatedAt.IsZero() {
		t.Errorf("staff: got %+v, want region TTA, no password", staff)
	}
	for name, tc := range map[string]struct {
		u    prodays.User
		code string
	}{
		"taken":            {prodays.User{Username: "s.staff", Role: prodays.RoleAdmin}, prodays.EConflict},
		"staff no estab":   {prodays.User{Username: "a", Role: prodays.RoleStaff}, prodays.EInvalid},
		"unknown estab":    {prodays.User{Username: "a", Role: prodays.RoleStaff, EstablishmentCode: "EFP9"}, prodays.EInvalid},
		"supervisor":       {prodays.User{Username: "a", Role: prodays.RoleSupervisor}, prodays.EInvalid},
		"unknown region":   {prodays.User{Username: "a", Role: prodays.RoleSupervisor, RegionCode: "XX"}, prodays.EInvalid},
		"admin with scope": {prodays.User{Username: "a", Role: prodays.RoleAdmin, RegionCode: "CS"}, prodays.EInvalid},
		"bad role":         {prodays.User{Username: "a", Role: "root"}, prodays.EInvalid},
		"space in name":    {prodays.User{Username: "a b", Role: prodays.RoleAdmin}, prodays.EInvalid},
	} {
		if _, err := db.CreateUser(ctx, tc.u, "", "cli"); prodays.ErrorCode(err) != tc.code {
			t.Errorf("%s: got %v, want code %s", name, err, tc.code)
		}
	}
	if _, err := db.CreateUser(ctx, prodays.User{Username: "r.sup", Role: prodays.RoleSupervisor, RegionCode: "CS"}, "$argon2id$x", "cli"); err != nil {
		t.Fatal(err)
	}
	if err := db.SetPassword(ctx, "s.staff", "$argon2id$y", "cli"); err != nil {
		t.Fatal(err)
	}
	if err := db.DisableUser(ctx, "s.staff", "cli"); err != nil {
		t.Fatal(err)
	}
	u, err := db.GetUser(ctx, "s.staff")
	if err != nil || !u.HasPassword || !u.Disabled {
		t.Errorf("after passwd and disable: %+v %v", u, err)
	}
	if _, err := db.GetUser(ctx, "nobody"); prodays.ErrorCode(err) != prodays.ENotFound {
		t.Errorf("GetUser(nobody): got %v, want not_found", err)
	}
	if err := db.SetPassword(ctx, "nobody", "$x", "cli"); prodays.ErrorCode(err) != prodays.ENotFound {
		t.Errorf("SetPassword(nobody): got %v", err)
	}
	if err := db.DisableUser(ctx, "nobody", "cli"); prodays.ErrorCode(err) != prodays.ENotFound {
		t.Errorf("DisableUser(nobody): got %v", err)
	}
	list, err := db.ListUsers(ctx)
	if err != nil || len(list) != 2 || list[0].Username != "r.sup" || list[1].Username != "s.staff" {
		t.Errorf("ListUsers: %v %v", list, err)
	}
	audit, _ := db.ListAudit(ctx, store.AuditFilter{Action: "user."})
	if len(audit) != 4 {
		t.Errorf("audit entries: got %d, want 4 (2 creates, passwd, disable)", len(audit))
	}
}
