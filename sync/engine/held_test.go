package engine_test

import (
	"testing"
	"time"

	"prodays/internal/dbtest"
	"prodays/internal/synctest"
	"prodays/sync/protocol"
)

// TestHeldRevokedOrDisabled: what a revoked device or a disabled user
// recorded and the server held does not take effect afterwards, as such a
// push would be refused now: the check-in and the correction held for a
// walk-in are refused (out_of_scope) when its registration arrives.
func TestHeldRevokedOrDisabled(t *testing.T) {
	for _, c := range []struct{ name, stmt string }{
		{"revoked device", `UPDATE devices SET revoked_at = '2026-03-23T10:00:00Z' WHERE id = 'dev-a'`},
		{"disabled user", `UPDATE users SET disabled = 1 WHERE username = 'staff1'`},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := mustEngine(t)
			staff := synctest.Principal("staff1", "dev-a")
			sup := synctest.Principal("sup1", "dev-s")
			reg := synctest.NewPhone("dev-s", eventNow.Add(-time.Hour)).Register("E1", "Amrani", "Hind")
			ph := synctest.NewPhone("dev-a", eventNow.Add(-time.Hour))
			ci, up := ph.CheckIn("A1", "trainee", reg.Trainee.ID), ph.Update(reg.Trainee.ID, 1, map[string]string{"group": "G2"})
			if got := statuses(push(t, e, staff, ci, up)); got[0] != "flagged:awaiting_registration" || got[1] != "flagged:awaiting_registration" {
				t.Fatalf("held: %v", got)
			}
			if _, err := e.DB.Write.Exec(c.stmt); err != nil {
				t.Fatal(err)
			}
			if got := statuses(push(t, e, sup, reg)); got[0] != "applied" {
				t.Fatalf("registration: %v", got)
			}
			ciStatus := dbtest.Value[string](t, e.DB, `SELECT status || ':' || code FROM mutation_log WHERE id = ?`, ci.ID)
			upStatus := dbtest.Value[string](t, e.DB, `SELECT status || ':' || code FROM mutation_log WHERE id = ?`, up.ID)
			if want := "rejected:" + protocol.CodeOutOfScope; ciStatus != want || upStatus != want {
				t.Errorf("check-in %s, update %s; want %s", ciStatus, upStatus, want)
			}
			if got := attendance(t, e, "A1", reg.Trainee.ID); got.present {
				t.Errorf("the held check-in applied: %+v", got)
			}
			if group := dbtest.Value[string](t, e.DB, `SELECT COALESCE(group_name, '') FROM trainees WHERE id = ?`, reg.Trainee.ID); group != "" {
				t.Errorf("the held correction applied: group %q", group)
			}
		})
	}
}
