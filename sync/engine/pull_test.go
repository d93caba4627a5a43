package engine_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"prodays"
	"prodays/internal/dbtest"
	"prodays/internal/synctest"
	"prodays/store"
	"prodays/sync/engine"
	"prodays/sync/protocol"
)

// replica is what a phone holds after applying pulled changes: entity:id
// → data as JSON.
type replica map[string]string

func (r replica) apply(tb testing.TB, chs []protocol.Change) {
	tb.Helper()
	for _, c := range chs {
		k := c.Entity + ":" + c.ID
		switch c.Op {
		case "upsert":
			b, err := json.Marshal(c.Data)
			if err != nil {
				tb.Fatal(err)
			}
			r[k] = string(b)
		case "delete":
			delete(r, k)
		default:
			tb.Fatalf("op %q", c.Op)
		}
	}
}

// pullAll pulls from cur to the end in pages of limit into r, and returns
// the last cursor and every change received, in order.
func pullAll(tb testing.TB, e *engine.Engine, p *prodays.Principal, cur string, limit int, r replica) (string, []protocol.Change) {
	tb.Helper()
	var all []protocol.Change
	for {
		resp, err := e.Pull(context.Background(), p, cur, limit)
		if err != nil {
			tb.Fatal(err)
		}
		if len(resp.Changes) > limit {
			tb.Fatalf("%d changes in a page of %d", len(resp.Changes), limit)
		}
		r.apply(tb, resp.Changes)
		all = append(all, resp.Changes...)
		cur = resp.Cursor
		if !resp.HasMore {
			return cur, all
		}
	}
}

// sameAsSnapshot checks that r, a replica kept up by incremental pulls,
// holds what a fresh snapshot of p's scope holds (only the entities whose
// key starts with prefix), naming each difference, and returns the
// snapshot.
func sameAsSnapshot(t *testing.T, e *engine.Engine, p *prodays.Principal, name string, r replica, prefix string) replica {
	t.Helper()
	snap := replica{}
	pullAll(t, e, p, "", 1000, snap)
	for k, v := range snap {
		if strings.HasPrefix(k, prefix) && r[k] != v {
			t.Errorf("%s %s: incremental %q, snapshot %q", name, k, r[k], v)
		}
	}
	for k, v := range r {
		if _, ok := snap[k]; strings.HasPrefix(k, prefix) && !ok {
			t.Errorf("%s %s: incremental %q, not in a snapshot", name, k, v)
		}
	}
	return snap
}

func keysOf(chs []protocol.Change) []string {
	var out []string
	for _, c := range chs {
		out = append(out, c.Op+" "+c.Entity+":"+c.ID)
	}
	return out
}

// TestPullMergesAttendance: attendance rows carry their own seq (migration
// 00034) and the change log the rest; a pull merges both in the order the
// changes happened, whatever the page size, and a presence that went away
// arrives as a delete.
func TestPullMergesAttendance(t *testing.T) {
	e, ctx := mustEngine(t), context.Background()
	admin := synctest.Principal("admin", "dev-adm")
	staff, ph := staff1A()
	t0, t1, t2, t3 := synctest.TraineesE1[0], synctest.TraineesE1[1], synctest.TraineesE1[2], synctest.TraineesE1[3]

	start := replica{}
	cur, _ := pullAll(t, e, admin, "", 1000, start)

	in0 := ph.CheckIn("A1", "trainee", t0)
	push(t, e, staff, in0, ph.CheckIn("A1", "trainee", t1))
	push(t, e, staff, ph.Update(t2, 1, map[string]string{"group": "G-9"}))
	push(t, e, staff, ph.Undo("A1", "trainee", t0, in0.ID))
	if err := e.Override(ctx, synctest.Principal("sup1", "dev-sup"), "A1", protocol.Person{Kind: "trainee", ID: t2}, true, "on the signed sheet"); err != nil {
		t.Fatal(err)
	}
	// A second check-in of t1 changes its row (the pair existed): the
	// row moves to the end of the sequence; t3's first check-in creates
	// its row (the batch's fast path); then a correction of t0.
	ph2 := synctest.NewPhone("dev-b", eventNow.Add(-time.Hour))
	push(t, e, synctest.Principal("staff1", "dev-b"), ph2.CheckIn("A1", "trainee", t1))
	push(t, e, synctest.Principal("staff1", "dev-b"), ph2.CheckIn("A1", "trainee", t3))
	push(t, e, staff, ph.Update(t0, 1, map[string]string{"group": "G-8"}))

	want := []string{
		"upsert trainee:" + t2,
		"delete attendance:" + protocol.AttendanceID("A1", "trainee", t0),
		"upsert attendance:" + protocol.AttendanceID("A1", "trainee", t2),
		"upsert attendance:" + protocol.AttendanceID("A1", "trainee", t1),
		"upsert attendance:" + protocol.AttendanceID("A1", "trainee", t3),
		"upsert trainee:" + t0,
	}
	for _, limit := range []int{1, 2, 3, 1000} {
		r := maps.Clone(start)
		_, got := pullAll(t, e, admin, cur, limit, r)
		if !slices.Equal(keysOf(got), want) {
			t.Errorf("limit %d: changes\n got %q\nwant %q", limit, keysOf(got), want)
		}
		var a protocol.Attendance
		if err := json.Unmarshal([]byte(r["attendance:"+protocol.AttendanceID("A1", "trainee", t1)]), &a); err != nil {
			t.Fatalf("limit %d: %v", limit, err)
		}
		if !a.Present || len(a.CheckInIDs) != 2 {
			t.Errorf("limit %d: t1's presence %+v, want present with 2 check-ins", limit, a)
		}
		// The incremental replica is the snapshot.
		sameAsSnapshot(t, e, admin, fmt.Sprintf("limit %d", limit), r, "")
	}
	// Staff of E1 see A1's presences; staff of E3 (A1 is not theirs) see
	// none.
	r := maps.Clone(start)
	if _, got := pullAll(t, e, staff, "", 2, r); !slices.Contains(keysOf(got), want[3]) {
		t.Errorf("staff1 does not receive %s", want[3])
	}
	_, got := pullAll(t, e, synctest.Principal("staff3", "dev-c"), "", 1000, replica{})
	for _, c := range got {
		if c.Entity == "attendance" {
			t.Errorf("staff3 received %s %s", c.Op, c.ID)
		}
	}
}

// TestPullDuringPushes: a phone that pulls page after page while other
// phones push ends with exactly the state of a fresh snapshot (no change
// skipped between the change log and the attendance rows, which are read
// from one snapshot).
func TestPullDuringPushes(t *testing.T) {
	e := mustEngine(t)
	admin := synctest.Principal("admin", "dev-adm")
	trainees := append(append([]string{}, synctest.TraineesE3...), synctest.TraineesE1...)
	var wg sync.WaitGroup
	done := make(chan struct{})
	for d := 0; d < 2; d++ {
		wg.Add(1)
		go func(d int) {
			defer wg.Done()
			dev := fmt.Sprintf("dev-%d", d)
			ph := synctest.NewPhone(dev, eventNow.Add(-time.Hour))
			p := synctest.Principal("admin", dev)
			for i := 0; i < 40; i++ {
				tr := trainees[(i*7+d)%len(trainees)]
				act := []string{"A1", "A2", "B1", "A3"}[(i+d)%4]
				in := ph.CheckIn(act, "trainee", tr)
				// A walk-in checked in once: a row that nothing changes
				// after its batch.
				reg := ph.Register("E1", fmt.Sprintf("Walk%d", d), fmt.Sprintf("In%d", i))
				ms := []protocol.Mutation{reg, ph.CheckIn(act, "trainee", reg.Trainee.ID), in}
				if i%3 == 0 {
					ms = append(ms, ph.Undo(act, "trainee", tr, in.ID))
				}
				if i%5 == 0 {
					ms = append(ms, ph.Update(tr, 1, map[string]string{"group": fmt.Sprintf("G-%d-%d", d, i)}))
				}
				if _, err := e.Push(context.Background(), p, synctest.Request(t, dev, eventNow, ms...)); err != nil {
					t.Error(err)
					return
				}
				// Paced, so that the puller often reaches the head of
				// the sequence while batches commit.
				time.Sleep(time.Millisecond)
			}
		}(d)
	}
	go func() { wg.Wait(); close(done) }()
	r := replica{}
	cur := ""
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		cur, _ = pullAll(t, e, admin, cur, 20, r)
	}
	pullAll(t, e, admin, cur, 20, r)
	snap := sameAsSnapshot(t, e, admin, "admin", r, "")
	var n int
	n = dbtest.Value[int](t, e.DB, `SELECT count(*) FROM attendance`)
	if got := len(slices.DeleteFunc(slices.Collect(maps.Keys(snap)), func(k string) bool { return !strings.HasPrefix(k, "attendance:") })); got != n {
		t.Errorf("snapshot has %d presences, the table %d", got, n)
	}
}

// TestPullActivityIDWithColon: nothing constrains an activity id, and the
// pull id of a presence joins its parts with ':'. A change of a presence
// of activity "MTG:1" (a second check-in: the pair existed) is recorded on
// its row, not taken for a presence that went away.
func TestPullActivityIDWithColon(t *testing.T) {
	e := mustEngine(t)
	if _, err := e.DB.Write.Exec(`INSERT INTO activities (id, kind, title, date, start_time, end_time, establishment_code, region_code, capacity)
		VALUES ('MTG:1', 'meeting', 'M', '2026-03-23', '09:00', '11:00', 'E1', 'RSK', 50)`); err != nil {
		t.Fatal(err)
	}
	admin := synctest.Principal("admin", "dev-adm")
	tr := synctest.TraineesE1[0]
	r := replica{}
	cur, _ := pullAll(t, e, admin, "", 1000, r)
	a := synctest.NewPhone("dev-a", eventNow.Add(-time.Hour))
	b := synctest.NewPhone("dev-b", eventNow.Add(-time.Hour))
	push(t, e, synctest.Principal("staff1", "dev-a"), a.CheckIn("MTG:1", "trainee", tr))
	push(t, e, synctest.Principal("staff1", "dev-b"), b.CheckIn("MTG:1", "trainee", tr))
	pullAll(t, e, admin, cur, 1, r)
	snap := replica{}
	pullAll(t, e, admin, "", 1000, snap)
	id := "attendance:" + protocol.AttendanceID("MTG:1", "trainee", tr)
	var got protocol.Attendance
	if err := json.Unmarshal([]byte(snap[id]), &got); err != nil || !got.Present || len(got.CheckInIDs) != 2 {
		t.Errorf("snapshot: %s = %q (%v), want present with 2 check-ins", id, snap[id], err)
	}
	if r[id] != snap[id] {
		t.Errorf("incremental %q, snapshot %q", r[id], snap[id])
	}
}

// TestPullActivityMovesScope: an import moves an activity to another
// establishment (store.RescopeAttendance, as importer.write does): the
// former establishment's phones drop its presences, the new one's receive
// them, and each ends as a fresh snapshot of its scope.
func TestPullActivityMovesScope(t *testing.T) {
	e, ctx := mustEngine(t), context.Background()
	staff1, staff2 := synctest.Principal("staff1", "dev-s1"), synctest.Principal("staff2", "dev-s2")
	a := synctest.NewPhone("dev-a", eventNow.Add(-time.Hour))
	r1, r2 := replica{}, replica{}
	push(t, e, synctest.Principal("staff1", "dev-a"), a.CheckIn("A1", "trainee", synctest.TraineesE1[0]))
	// A change in staff2's scope after it: staff2's cursor passes the
	// presence's seq.
	push(t, e, synctest.Principal("staff1", "dev-a"), a.Update(synctest.TraineesE1[1], 1, map[string]string{"group": "G-7"}))
	cur1, _ := pullAll(t, e, staff1, "", 1000, r1)
	cur2, _ := pullAll(t, e, staff2, "", 1000, r2)
	id := "attendance:" + protocol.AttendanceID("A1", "trainee", synctest.TraineesE1[0])
	if _, ok := r1[id]; !ok {
		t.Fatalf("staff1 lacks %s before the move", id)
	}
	if err := e.DB.WithTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec(`UPDATE activities SET establishment_code = 'E2' WHERE id = 'A1'`); err != nil {
			return err
		}
		if err := store.RescopeAttendance(ctx, tx, "A1", "RSK", "E1"); err != nil {
			return err
		}
		return store.RecordChange(ctx, tx, store.Change{Entity: "activity", ID: "A1", Op: "upsert", RegionCode: "RSK", EstablishmentCode: "E2"})
	}); err != nil {
		t.Fatal(err)
	}
	pullAll(t, e, staff1, cur1, 1, r1)
	pullAll(t, e, staff2, cur2, 1, r2)
	if _, ok := r1[id]; ok {
		t.Errorf("staff1 (E1) still holds %s after A1 moved to E2", id)
	}
	if _, ok := r2[id]; !ok {
		t.Errorf("staff2 (E2) did not receive %s", id)
	}
	// (Attendance only: a speaker's scope follows its activities at pull
	// time, and moving a meeting moves its speaker without a change.)
	sameAsSnapshot(t, e, staff1, "staff1", r1, "attendance:")
	sameAsSnapshot(t, e, staff2, "staff2", r2, "attendance:")
}

// TestPullMergedWalkIns: walk-ins checked in (held, released, undone,
// overridden), one merged into the other, check-ins naming the loser after
// the merge; phones pulling with limit 1 between every step end equal to a
// fresh snapshot, and no check-in stays under a merged id.
func TestPullMergedWalkIns(t *testing.T) {
	e, ctx := mustEngine(t), context.Background()
	sup := synctest.Principal("sup1", "dev-sup")
	admin := synctest.Principal("admin", "dev-adm")
	staff, ph := staff1A()
	ra, rs := replica{}, replica{}
	curA, _ := pullAll(t, e, admin, "", 1, ra)
	curS, _ := pullAll(t, e, staff, "", 1, rs)
	step := func() {
		curA, _ = pullAll(t, e, admin, curA, 1, ra)
		curS, _ = pullAll(t, e, staff, curS, 1, rs)
	}
	w1 := ph.Register("E1", "Zed", "Walker")
	w2 := ph.Register("E1", "Zed", "Walker")
	push(t, e, staff, ph.CheckIn("A1", "trainee", w1.Trainee.ID)) // held: before its registration
	step()
	push(t, e, staff, w1, ph.CheckIn("A2", "trainee", w1.Trainee.ID))
	step()
	in2 := ph.CheckIn("A1", "trainee", w2.Trainee.ID)
	push(t, e, staff, w2, in2, ph.Undo("A1", "trainee", w2.Trainee.ID, in2.ID))
	step()
	if err := e.Override(ctx, sup, "A2", protocol.Person{Kind: "trainee", ID: w2.Trainee.ID}, true, "sheet"); err != nil {
		t.Fatal(err)
	}
	step()
	loser := max(w1.Trainee.ID, w2.Trainee.ID) // the greater merges into the smaller
	ps, err := e.ListProposals(ctx, sup, "open")
	if err != nil {
		t.Fatal(err)
	}
	merged := false
	for _, p := range ps {
		if p.WalkInID == loser {
			if err := e.DecideProposal(ctx, sup, p.ID, true, "same"); err != nil {
				t.Fatal(err)
			}
			merged = true
			break
		}
	}
	if !merged {
		t.Fatalf("no proposal for %s: %+v", loser, ps)
	}
	step()
	push(t, e, staff, ph.CheckIn("A2", "trainee", loser), ph.CheckIn("A1", "trainee", w1.Trainee.ID))
	step()
	sameAsSnapshot(t, e, admin, "admin", ra, "")
	sameAsSnapshot(t, e, staff, "staff", rs, "")
	var n int
	n = dbtest.Value[int](t, e.DB, `SELECT count(*) FROM checkins c JOIN trainees t ON t.id = c.person_id WHERE t.merged_into IS NOT NULL`)
	if n != 0 {
		t.Errorf("%d check-ins left under a merged id", n)
	}
	n = dbtest.Value[int](t, e.DB, `SELECT count(*) FROM checkins WHERE person_kind = 'trainee' AND walk_in = 0 AND person_id IN (SELECT id FROM trainees WHERE source = 'walk_in')`)
	if n != 0 {
		t.Errorf("%d check-ins of walk-ins not marked walk_in", n)
	}
}

// TestPullNetEffect: a presence checked in, undone (its row deleted: a
// delete in the change log) and checked in again by a later batch's fast
// path comes once in a page that covers it all, as an upsert (sync
// protocol, Pull: a page holds the net effect of its changes).
func TestPullNetEffect(t *testing.T) {
	e := mustEngine(t)
	admin := synctest.Principal("admin", "dev-adm")
	staff, ph := staff1A()
	tr := synctest.TraineesE1[0]
	cur, _ := pullAll(t, e, admin, "", 1000, replica{})
	in := ph.CheckIn("A1", "trainee", tr)
	push(t, e, staff, in)
	push(t, e, staff, ph.Undo("A1", "trainee", tr, in.ID))
	push(t, e, staff, ph.CheckIn("A1", "trainee", tr))
	_, got := pullAll(t, e, admin, cur, 1000, replica{})
	if want := []string{"upsert attendance:" + protocol.AttendanceID("A1", "trainee", tr)}; !slices.Equal(keysOf(got), want) {
		t.Errorf("page: got %q, want %q", keysOf(got), want)
	}
}
