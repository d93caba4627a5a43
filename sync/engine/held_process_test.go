package engine_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"prodays"
	"prodays/internal/dbtest"
	"prodays/internal/synctest"
	"prodays/internal/testenv"
	"prodays/store"
	"prodays/sync/protocol"
)

// heldServer starts the prodays binary on the seeded roster (synctest:
// E1, E2 in RSK, E3 in CS) with accounts for staff1 (E1), staff3 (E3),
// sup1 (RSK) and sup3 (CS), and an open meeting T1 of E1 dated today
// (Casablanca), so that check-ins made now are in its window.
func heldServer(t *testing.T) *testenv.Env {
	t.Helper()
	return testenv.Process(t, testenv.ProcessOptions{Seed: func(tb testing.TB, db *store.DB) {
		synctest.Seed(tb, db)
		loc := prodays.Casablanca
		today := time.Now().In(loc).Format("2006-01-02")
		if _, err := db.Write.Exec(`INSERT INTO activities (id, kind, title, date, start_time, end_time, establishment_code, company_id, region_code, capacity)
			VALUES ('T1', 'meeting', 'Today', ?, '00:00', '23:59', 'E1', NULL, 'RSK', 50)`, today); err != nil {
			tb.Fatal(err)
		}
		testenv.CreateUser(tb, db, "staff1", "staff", "E1", "")
		testenv.CreateUser(tb, db, "staff3", "staff", "E3", "")
		testenv.CreateUser(tb, db, "sup1", "supervisor", "", "RSK")
		testenv.CreateUser(tb, db, "sup3", "supervisor", "", "CS")
	}})
}

// pushHTTP pushes ms as session s and returns the status and the answer.
func pushHTTP(t *testing.T, s *testenv.Session, ms ...protocol.Mutation) (int, protocol.PushResponse) {
	t.Helper()
	var body map[string]any
	if err := json.Unmarshal(synctest.Body(s.DeviceID, time.Now(), len(ms), ms...), &body); err != nil {
		t.Fatal(err)
	}
	var resp protocol.PushResponse
	st := s.Do(t, "POST", "/api/v1/sync/push", body, &resp)
	return st, resp
}

// pushOne pushes m alone as s and returns its result as resultOf spells
// it ("applied:", "flagged:late", "duplicate:rejected:out_of_scope"), or
// "http N" when the push does not answer 200.
func pushOne(t *testing.T, s *testenv.Session, m protocol.Mutation) string {
	t.Helper()
	st, resp := pushHTTP(t, s, m)
	if st != http.StatusOK {
		return fmt.Sprintf("http %d", st)
	}
	return resultOf(resp.Results, m.ID)
}

// mustPush pushes m alone as s (pushOne) and fails t unless its result is
// one of want.
func mustPush(t *testing.T, s *testenv.Session, m protocol.Mutation, want ...string) {
	t.Helper()
	got := pushOne(t, s, m)
	for _, w := range want {
		if got == w {
			return
		}
	}
	t.Fatalf("%s %s as %s: %s, want one of %q", m.Type, m.ID, s.Username, got, want)
}

func resultOf(rs []protocol.Result, id string) string {
	for _, r := range rs {
		if r.ID == id {
			if r.Status == protocol.StatusDuplicate {
				return r.Status + ":" + r.Outcome + ":" + r.Code
			}
			return r.Status + ":" + r.Code
		}
	}
	return "missing"
}

// quarantined returns the code of each mutation in the quarantine that s
// (a supervisor) sees, by mutation id.
func quarantined(t *testing.T, s *testenv.Session) map[string]string {
	return reviewed(t, s, "/api/v1/review/quarantine", "mutations", "id", "code")
}

// reviewed returns the field val of each item of the review list at path
// (its items under list) that s sees, by their field key, both as text.
func reviewed(t *testing.T, s *testenv.Session, path, list, key, val string) map[string]string {
	t.Helper()
	var body map[string]any
	if st := s.Do(t, "GET", path, nil, &body); st != http.StatusOK {
		t.Fatalf("%s: %d", path, st)
	}
	out := map[string]string{}
	items, _ := body[list].([]any)
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			out[fmt.Sprint(m[key])] = fmt.Sprint(m[val])
		}
	}
	return out
}

// pulledIDs returns the ids of the changes of entity that session s pulls
// from the start.
func pulledIDs(t *testing.T, s *testenv.Session, entity string) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	cursor := ""
	for {
		var page protocol.PullResponse
		if st := s.Do(t, "GET", "/api/v1/sync/pull?limit=5000&cursor="+cursor, nil, &page); st != http.StatusOK {
			t.Fatalf("pull as %s: status %d", s.Username, st)
		}
		for _, c := range page.Changes {
			if c.Entity == entity && c.Op == "upsert" {
				ids[c.ID] = true
			}
		}
		if !page.HasMore {
			return ids
		}
		cursor = page.Cursor
	}
}

// TestHeldUpdateKeepsScopeProcess is issue #13 finding 1 against a real
// server: a staff member of E1 (RSK) pushes a trainee.update of a fresh
// walk-in that moves it to E3 (CS), held until its registration, then
// registers the walk-in in E1. The held update takes effect only now, and
// is checked against the pusher's scope as if it had arrived last: it is
// refused (out_of_scope, in the quarantine of the pusher's region); the
// walk-in stays in E1, is not pulled by CS staff and is proposed to no CS
// supervisor.
func TestHeldUpdateKeepsScopeProcess(t *testing.T) {
	env := heldServer(t)
	dev := "0190d5a4-8f0c-7a11-9c3b-000000000001"
	staff1 := env.Login(t, "staff1", dev)
	staff3 := env.Login(t, "staff3", "0190d5a4-8f0c-7a11-9c3b-000000000003")
	sup1 := env.Login(t, "sup1", "0190d5a4-8f0c-7a11-9c3b-000000000011")
	sup3 := env.Login(t, "sup3", "0190d5a4-8f0c-7a11-9c3b-000000000013")

	ph := synctest.NewPhone(dev, time.Now().Add(-time.Minute))
	// The names of CS's roster trainee F25000300001A (E3): moved to E3,
	// the walk-in would be proposed for merging with it in CS.
	reg := ph.Register("E1", "Nom0", "PrenomE30")
	walkIn := reg.Trainee.ID
	move := ph.Update(walkIn, 1, map[string]string{"establishment_code": "E3"})

	// Held (awaiting_registration), or refused at once: its field is
	// outside the pusher's scope whatever the trainee.
	mustPush(t, staff1, move, "flagged:awaiting_registration", "rejected:out_of_scope")
	mustPush(t, staff1, reg, "applied:")

	if est := dbtest.Value[string](t, env.DB, `SELECT establishment_code FROM trainees WHERE id = ?`, walkIn); est != "E1" {
		t.Errorf("walk-in's establishment after its registration: %q, want E1", est)
	}
	if ids := pulledIDs(t, staff3, "trainee"); ids[walkIn] {
		t.Errorf("CS staff pull E1's walk-in %s", walkIn)
	}
	if ids := pulledIDs(t, staff1, "trainee"); !ids[walkIn] {
		t.Errorf("E1 staff do not pull their walk-in %s", walkIn)
	}
	var props struct {
		MergeProposals []struct {
			WalkInID string `json:"walk_in_id"`
		} `json:"merge_proposals"`
	}
	if st := sup3.Do(t, "GET", "/api/v1/review/merge-proposals", nil, &props); st != http.StatusOK {
		t.Fatalf("proposals: %d", st)
	}
	for _, p := range props.MergeProposals {
		if p.WalkInID == walkIn {
			t.Errorf("CS supervisor is proposed E1's walk-in: %+v", p)
		}
	}
	// The phone learns the refusal (a retry answers it as a duplicate).
	if got := pushOne(t, staff1, move); got != "duplicate:rejected:out_of_scope" {
		t.Errorf("held update after the registration: %s, want duplicate:rejected:out_of_scope", got)
	}
	// The refusal is in the quarantine of the pusher's region.
	if q := quarantined(t, sup1); q[move.ID] != protocol.CodeOutOfScope {
		t.Errorf("RSK quarantine does not list the refused update: %v", q)
	}
}

// TestHeldUpdateOfForeignWalkInProcess: a staff member of E1 (RSK) pushes
// a correction of a walk-in UUID that a phone of E3 (CS) registers later.
// Held until then, the correction takes effect with the registration, and
// is checked as if it had arrived last: the walk-in is a CS trainee,
// outside the pusher's region, so it is refused (out_of_scope) and CS's
// walk-in keeps its names.
func TestHeldUpdateOfForeignWalkInProcess(t *testing.T) {
	env := heldServer(t)
	dev1, dev3 := "0190d5a4-8f0c-7a11-9c3b-000000000031", "0190d5a4-8f0c-7a11-9c3b-000000000033"
	staff1, staff3 := env.Login(t, "staff1", dev1), env.Login(t, "staff3", dev3)
	reg := synctest.NewPhone(dev3, time.Now().Add(-time.Minute)).Register("E3", "Tazi", "Amine")
	walkIn := reg.Trainee.ID
	rename := synctest.NewPhone(dev1, time.Now().Add(-time.Minute)).Update(walkIn, 1, map[string]string{"last_name": "Hijacked"})
	mustPush(t, staff1, rename, "flagged:awaiting_registration")
	mustPush(t, staff3, reg, "applied:")
	if last := dbtest.Value[string](t, env.DB, `SELECT last_name FROM trainees WHERE id = ?`, walkIn); last != "Tazi" {
		t.Errorf("CS walk-in's last name: %q, want Tazi", last)
	}
	if got := pushOne(t, staff1, rename); got != "duplicate:rejected:out_of_scope" {
		t.Errorf("held update after the registration: %s, want duplicate:rejected:out_of_scope", got)
	}
}

// TestHeldUpdateUnknownEstablishmentProcess is issue #13 finding 4
// against a real server: a held trainee.update naming an establishment
// that does not exist must not make the batch carrying the walk-in's
// registration fail (it answered 500 on every retry); the update alone
// is refused (unknown_establishment) and the rest of the batch applies.
func TestHeldUpdateUnknownEstablishmentProcess(t *testing.T) {
	env := heldServer(t)
	dev := "0190d5a4-8f0c-7a11-9c3b-000000000021"
	staff1 := env.Login(t, "staff1", dev)
	ph := synctest.NewPhone(dev, time.Now().Add(-time.Minute))
	reg := ph.Register("E1", "Idrissi", "Salma")
	walkIn := reg.Trainee.ID
	bad := ph.Update(walkIn, 1, map[string]string{"establishment_code": "NOPE", "group": "G7"})
	fine := ph.Update(walkIn, 1, map[string]string{"program": "Dev"})
	heldCheckIn := ph.CheckIn("T1", "trainee", walkIn)
	if st, resp := pushHTTP(t, staff1, bad, fine, heldCheckIn); st != http.StatusOK {
		t.Fatalf("held mutations: %d %+v", st, resp.Results)
	}
	other := ph.CheckIn("T1", "trainee", synctest.TraineesE1[0])
	for try := 0; try < 2; try++ { // the phone's retry must not fail either
		st, resp := pushHTTP(t, staff1, reg, other)
		if st != http.StatusOK {
			t.Fatalf("try %d: the batch with the registration answers %d, want 200", try, st)
		}
		want := map[string]string{reg.ID: "applied:", other.ID: "applied:"}
		if try > 0 {
			want = map[string]string{reg.ID: "duplicate:applied:", other.ID: "duplicate:applied:"}
		}
		for id, w := range want {
			if got := resultOf(resp.Results, id); got != w {
				t.Errorf("try %d: %s: %s, want %s", try, id, got, w)
			}
		}
	}
	_, resp := pushHTTP(t, staff1, bad, fine, heldCheckIn)
	for id, w := range map[string]string{bad.ID: "duplicate:rejected:unknown_establishment", fine.ID: "duplicate:applied:", heldCheckIn.ID: "duplicate:applied:"} {
		if got := resultOf(resp.Results, id); got != w {
			t.Errorf("%s: %s, want %s", id, got, w)
		}
	}
	var est, program, group string
	if err := env.DB.Read.QueryRow(`SELECT establishment_code, program, group_name FROM trainees WHERE id = ?`, walkIn).Scan(&est, &program, &group); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(est, "|", program, "|", group); got != "E1|Dev|" {
		t.Errorf("walk-in: %s, want E1|Dev| (the refused update changes no field)", got)
	}
	if present := dbtest.Value[bool](t, env.DB, `SELECT present FROM attendance WHERE activity_id = 'T1' AND person_id = ?`, walkIn); !present {
		t.Errorf("held check-in of the walk-in: present %v", present)
	}
}

// TestHeldCheckInsKeepScopeProcess: the check-ins that take effect after
// they arrive -- a late one when a supervisor accepts its flag, one held
// for a walk-in when the walk-in's registration arrives -- are checked
// against their pusher's scope at that moment. staff1 records them at
// E1's meeting T1, then an admin moves staff1 to E3 (CS): accepted or
// released, they would be staff1's attendance outside staff1's scope; they
// are refused (out_of_scope, in the quarantine of staff1's region now),
// never applied.
func TestHeldCheckInsKeepScopeProcess(t *testing.T) {
	env := heldServer(t)
	testenv.CreateUser(t, env.DB, "boss", "admin", "", "")
	testenv.CreateUser(t, env.DB, "staff1b", "staff", "E1", "")
	dev := "0190d5a4-8f0c-7a11-9c3b-000000000041"
	staff1 := env.Login(t, "staff1", dev)
	staff1b := env.Login(t, "staff1b", "0190d5a4-8f0c-7a11-9c3b-000000000042")
	sup1 := env.Login(t, "sup1", "0190d5a4-8f0c-7a11-9c3b-000000000043")
	sup3 := env.Login(t, "sup3", "0190d5a4-8f0c-7a11-9c3b-000000000044")
	boss := env.Login(t, "boss", "0190d5a4-8f0c-7a11-9c3b-000000000045")

	if st := sup1.Do(t, "POST", "/api/v1/activities/T1/close", map[string]string{"reason": "signed"}, nil); st != http.StatusNoContent {
		t.Fatalf("close: %d", st)
	}
	ph := synctest.NewPhone(dev, time.Now().Add(-time.Minute))
	late := ph.CheckIn("T1", "trainee", synctest.TraineesE1[0])
	reg := synctest.NewPhone(staff1b.DeviceID, time.Now().Add(-time.Minute)).Register("E1", "Berrada", "Yasmine")
	held := ph.CheckIn("T1", "trainee", reg.Trainee.ID)
	if st, resp := pushHTTP(t, staff1, late, held); st != http.StatusOK ||
		resultOf(resp.Results, late.ID) != "flagged:late" || resultOf(resp.Results, held.ID) != "flagged:awaiting_registration" {
		t.Fatalf("push: %d %+v", st, resp.Results)
	}
	if st := boss.Do(t, "PATCH", "/api/v1/admin/users/staff1", map[string]string{"establishment_code": "E3"}, nil); st != http.StatusOK {
		t.Fatalf("move staff1 to E3: %d", st)
	}

	flags := reviewed(t, sup1, "/api/v1/review/flags", "flags", "mutation_id", "id")
	flag, ok := flags[late.ID]
	if !ok {
		t.Fatalf("no flag for the late check-in: %v", flags)
	}
	if st := sup1.Do(t, "POST", "/api/v1/review/flags/"+flag+"/accept", map[string]string{"reason": "ok"}, nil); st != http.StatusNoContent {
		t.Fatalf("accept: %d", st)
	}
	mustPush(t, staff1b, reg, "applied:")

	if n := dbtest.Value[int](t, env.DB, `SELECT count(*) FROM attendance WHERE activity_id = 'T1' AND present = 1`); n != 0 {
		t.Errorf("presences at T1: %d, want 0 (staff1 is no longer of E1)", n)
	}
	got := quarantined(t, sup3)
	for _, id := range []string{late.ID, held.ID} {
		if got[id] != protocol.CodeOutOfScope {
			t.Errorf("quarantine of staff1's region (CS) for %s: %q, want out_of_scope", id, got[id])
		}
	}
}
