package engine_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"prodays"
	"prodays/internal/dbtest"
	"prodays/internal/synctest"
	"prodays/sync/engine"
	"prodays/sync/protocol"
)

// eventNow is the server clock of these tests: during the event week.
var eventNow = time.Date(2026, 3, 23, 10, 0, 0, 0, time.UTC)

// mustEngine opens a real SQLite file with the seeded roster and a pinned
// clock.
func mustEngine(tb testing.TB) *engine.Engine {
	tb.Helper()
	db := dbtest.Open(tb)
	db.Now = func() time.Time { return eventNow }
	synctest.Seed(tb, db)
	e, err := engine.New(db)
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// staff1A is staff1 on phone dev-a, whose clock starts an hour before
// eventNow.
func staff1A() (*prodays.Principal, *synctest.Phone) {
	return synctest.Principal("staff1", "dev-a"), synctest.NewPhone("dev-a", eventNow.Add(-time.Hour))
}

func push(tb testing.TB, e *engine.Engine, p *prodays.Principal, ms ...protocol.Mutation) []protocol.Result {
	tb.Helper()
	resp, err := e.Push(context.Background(), p, synctest.Request(tb, p.DeviceID, eventNow, ms...))
	if err != nil {
		tb.Fatal(err)
	}
	return resp.Results
}

type presence struct {
	present bool
	at      string
	ids     string
}

func attendance(tb testing.TB, e *engine.Engine, act, id string) presence {
	tb.Helper()
	var p presence
	var at *string
	err := e.DB.Read.QueryRow(`SELECT present, checked_in_at, check_in_ids FROM attendance WHERE activity_id = ? AND person_id = ?`, act, id).Scan(&p.present, &at, &p.ids)
	if errors.Is(err, sql.ErrNoRows) {
		return presence{}
	}
	if err != nil {
		tb.Fatalf("attendance(%s, %s): %v", act, id, err)
	}
	if at != nil {
		p.at = *at
	}
	return p
}

func statuses(rs []protocol.Result) []string {
	var out []string
	for _, r := range rs {
		s := r.Status
		if r.Code != "" {
			s += ":" + r.Code
		}
		if r.Outcome != "" {
			s += ":" + r.Outcome
		}
		out = append(out, s)
	}
	return out
}

func TestPushCheckInUndoDuplicate(t *testing.T) {
	e := mustEngine(t)
	p, ph := staff1A()
	c1 := ph.CheckIn("A1", "trainee", synctest.TraineesE1[0])
	c2 := ph.CheckIn("A1", "trainee", synctest.TraineesE1[0]) // double tap
	u := ph.Undo("A1", "trainee", synctest.TraineesE1[0], c1.ID, c2.ID)
	typo := ph.CheckIn("A1", "trainee", "F25000100099Z")
	oos := ph.CheckIn("B1", "trainee", synctest.TraineesE3[0])
	got := statuses(push(t, e, p, c1, c2))
	if got[0] != "applied" || got[1] != "applied" {
		t.Fatalf("check-ins: %v", got)
	}
	if a := attendance(t, e, "A1", synctest.TraineesE1[0]); !a.present || a.at != "2026-03-23T09:00:01.000Z" {
		t.Fatalf("after check-ins: %+v", a)
	}
	got = statuses(push(t, e, p, c1, u, typo, oos))
	want := []string{"duplicate:applied", "applied", "rejected:unknown_trainee", "rejected:out_of_scope"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("results: got %v, want %v", got, want)
		}
	}
	if a := attendance(t, e, "A1", synctest.TraineesE1[0]); a.present {
		t.Fatalf("after undo: %+v", a)
	}
	// A re-check-in after the undo stands.
	c3 := ph.CheckIn("A1", "trainee", synctest.TraineesE1[0])
	push(t, e, p, c3)
	if a := attendance(t, e, "A1", synctest.TraineesE1[0]); !a.present || a.ids != `["`+c3.ID+`"]` {
		t.Fatalf("after re-check-in: %+v", a)
	}
	// seq reuse
	bad := c3
	bad.ID = "0190a6b2-0000-7000-8000-000000000001"
	if got := statuses(push(t, e, p, bad)); got[0] != "rejected:seq_reused" {
		t.Fatalf("seq reuse: %v", got)
	}
}

func TestUndoBeforeCheckIn(t *testing.T) {
	e := mustEngine(t)
	pa, a := staff1A()
	pb, b := synctest.Principal("staff1", "dev-b"), synctest.NewPhone("dev-b", eventNow.Add(-2*time.Hour))
	tr := synctest.TraineesE1[1]
	c1 := a.CheckIn("A1", "trainee", tr)
	u1 := a.Undo("A1", "trainee", tr, c1.ID)
	push(t, e, pa, u1) // the undo first
	push(t, e, pa, c1)
	if got := attendance(t, e, "A1", tr); got.present {
		t.Fatalf("undo before check-in did not cancel: %+v", got)
	}
	cb := b.CheckIn("A1", "trainee", tr) // another phone, earlier
	push(t, e, pb, cb)
	if got := attendance(t, e, "A1", tr); !got.present || got.at != "2026-03-23T08:00:01.000Z" {
		t.Fatalf("second phone: %+v", got)
	}
}

func TestWalkInHeldThenRegistered(t *testing.T) {
	e := mustEngine(t)
	p, ph := staff1A()
	reg := ph.Register("E1", "Aït Brahim", "Ñoura")
	ci := ph.CheckIn("A1", "trainee", reg.Trainee.ID)
	if got := statuses(push(t, e, p, ci)); got[0] != "flagged:awaiting_registration" {
		t.Fatalf("held: %v", got)
	}
	if got := statuses(push(t, e, p, reg)); got[0] != "applied" {
		t.Fatalf("register: %v", got)
	}
	if got := attendance(t, e, "A1", reg.Trainee.ID); !got.present {
		t.Fatalf("walk-in presence: %+v", got)
	}
	// A second walk-in with the same names, folded: proposed for merging.
	reg2 := ph.Register("E1", "AIT BRAHIM", "Noura")
	push(t, e, p, reg2, ph.CheckIn("A2", "trainee", reg2.Trainee.ID))
	ps, err := e.ListProposals(context.Background(), synctest.Principal("sup1", "s"), "")
	if err != nil || len(ps) != 1 {
		t.Fatalf("proposals: %v %v", ps, err)
	}
	if err := e.DecideProposal(context.Background(), synctest.Principal("sup1", "s"), ps[0].ID, true, "same person"); err != nil {
		t.Fatal(err)
	}
	var n int
	n = dbtest.Value[int](t, e.DB, `SELECT count(*) FROM attendance WHERE person_id = ? AND present = 1`, ps[0].CandidateID)
	if n != 2 {
		t.Fatalf("merged attendance: %d rows, want 2", n)
	}
	// Refused registration: the held check-ins are rejected with its reason.
	ci3 := ph.CheckIn("A1", "trainee", "0190a6b2-0000-7000-8000-0000000000ff")
	reg3 := ph.Register("E3", "X", "Y")
	reg3.Trainee.ID = "0190a6b2-0000-7000-8000-0000000000ff"
	push(t, e, p, ci3)
	if got := statuses(push(t, e, p, reg3)); got[0] != "rejected:walk_in_refused" {
		t.Fatalf("refused: %v", got)
	}
	var st, code string
	e.DB.Read.QueryRow(`SELECT status, code FROM mutations WHERE id = ?`, ci3.ID).Scan(&st, &code)
	if st != "rejected" || code != "walk_in_refused" {
		t.Fatalf("held check-in after refusal: %s %s", st, code)
	}
}

func TestCloseFlagsLate(t *testing.T) {
	e, ctx := mustEngine(t), context.Background()
	p := synctest.Principal("staff1", "dev-a")
	sup := synctest.Principal("sup1", "s")
	ph := synctest.NewPhone("dev-a", eventNow.Add(-time.Hour))
	tr := synctest.TraineesE1[2]
	if err := e.Close(ctx, sup, "A1", ""); err != nil {
		t.Fatal(err)
	}
	c := ph.CheckIn("A1", "trainee", tr)
	if got := statuses(push(t, e, p, c)); got[0] != "flagged:late" {
		t.Fatalf("late: %v", got)
	}
	if err := e.Reopen(ctx, sup, "A1", ""); prodays.ErrorCode(err) != prodays.EForbidden {
		t.Fatalf("supervisor reopen: %v", err)
	}
	fs, _ := e.ListFlags(ctx, sup, "")
	if len(fs) != 1 {
		t.Fatalf("flags: %v", fs)
	}
	if err := e.DecideFlag(ctx, sup, fs[0].ID, true, "ok"); err != nil {
		t.Fatal(err)
	}
	if got := attendance(t, e, "A1", tr); !got.present {
		t.Fatalf("accepted late: %+v", got)
	}
	// Out of window: recorded two days after the activity.
	ph2 := synctest.NewPhone("dev-a", time.Date(2026, 3, 26, 9, 0, 0, 0, time.UTC))
	ph2.Seq = ph.Seq
	e.DB.Now = func() time.Time { return time.Date(2026, 3, 26, 10, 0, 0, 0, time.UTC) }
	resp, err := e.Push(ctx, p, synctest.Request(t, "dev-a", time.Date(2026, 3, 26, 10, 0, 0, 0, time.UTC), ph2.CheckIn("A2", "trainee", tr), ph2.CheckIn("A2", "trainee", synctest.TraineesE1[3])))
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(resp.Results); got[0] != "applied" {
		// A2 is on the 24th: the 26th is out of window.
		if got[0] != "flagged:out_of_window" {
			t.Fatalf("window: %v", got)
		}
	} else {
		t.Fatalf("window: %v, want flagged", got)
	}
}

func TestTraineeUpdateLWWAndConflict(t *testing.T) {
	e := mustEngine(t)
	a := synctest.NewPhone("dev-a", eventNow.Add(-time.Hour))
	b := synctest.NewPhone("dev-b", eventNow.Add(-time.Hour+time.Minute))
	tr := synctest.TraineesE1[4]
	ua := a.Update(tr, 1, map[string]string{"last_name": "Alpha"})
	ub := b.Update(tr, 1, map[string]string{"last_name": "Beta", "group": "G2"})
	push(t, e, synctest.Principal("staff1", "dev-b"), ub)
	push(t, e, synctest.Principal("staff1", "dev-a"), ua)
	var last, group string
	var version int
	e.DB.Read.QueryRow(`SELECT last_name, group_name, version FROM trainees WHERE id = ?`, tr).Scan(&last, &group, &version)
	if last != "Beta" || group != "G2" || version != 3 {
		t.Fatalf("trainee: %s %s v%d", last, group, version)
	}
	cs, _ := e.ListConflicts(context.Background(), synctest.Principal("sup1", "s"), "")
	if len(cs) != 1 || cs[0].WinnerValue != "Beta" || cs[0].LoserValue != "Alpha" {
		t.Fatalf("conflicts: %+v", cs)
	}
	if err := e.DecideConflict(context.Background(), synctest.Principal("sup1", "s"), cs[0].ID, false, "typo"); err != nil {
		t.Fatal(err)
	}
	last = dbtest.Value[string](t, e.DB, `SELECT last_name FROM trainees WHERE id = ?`, tr)
	if last != "Alpha" {
		t.Fatalf("reversed: %s", last)
	}
}

func TestPullScopeAndCursor(t *testing.T) {
	e, ctx := mustEngine(t), context.Background()
	ph := synctest.NewPhone("dev-a", eventNow.Add(-time.Hour))
	push(t, e, synctest.Principal("staff1", "dev-a"), ph.CheckIn("A1", "trainee", synctest.TraineesE3[0]))
	count := func(p *prodays.Principal) map[string]int {
		got := map[string]int{}
		cur := ""
		for {
			r, err := e.Pull(ctx, p, cur, 3)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range r.Changes {
				got[c.Entity]++
			}
			cur = r.Cursor
			if !r.HasMore {
				return got
			}
		}
	}
	got := count(synctest.Principal("staff1", "d"))
	want := map[string]int{"establishment": 2, "trainee": 12, "activity": 2, "attendance": 1, "speaker": 1, "organization": 1, "company": 1}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("staff1 %s: got %d, want %d (%v)", k, got[k], v, got)
		}
	}
	if got := count(synctest.Principal("admin", "d")); got["trainee"] != 15 || got["activity"] != 4 {
		t.Errorf("admin: %v", got)
	}
	// Scope change: resync.
	r, _ := e.Pull(ctx, synctest.Principal("staff1", "d"), "", 5)
	e.DB.Write.Exec(`UPDATE users SET scope_version = scope_version + 1 WHERE username = 'staff1'`)
	if _, err := e.Pull(ctx, synctest.Principal("staff1", "d"), r.Cursor, 5); prodays.ErrorCode(err) != engine.EResync {
		t.Fatalf("resync: %v", err)
	}
}
