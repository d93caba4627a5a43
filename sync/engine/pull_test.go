package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"prodays"
	"prodays/internal/synctest"
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
	e := mustEngine(t)
	ctx := context.Background()
	admin := synctest.Principal("admin", "dev-adm")
	staff := synctest.Principal("staff1", "dev-a")
	ph := synctest.NewPhone("dev-a", eventNow.Add(-time.Hour))
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
		"delete attendance:" + engine.AttendanceID("A1", "trainee", t0),
		"upsert attendance:" + engine.AttendanceID("A1", "trainee", t2),
		"upsert attendance:" + engine.AttendanceID("A1", "trainee", t1),
		"upsert attendance:" + engine.AttendanceID("A1", "trainee", t3),
		"upsert trainee:" + t0,
	}
	for _, limit := range []int{1, 2, 3, 1000} {
		r := maps.Clone(start)
		_, got := pullAll(t, e, admin, cur, limit, r)
		if !slices.Equal(keysOf(got), want) {
			t.Errorf("limit %d: changes\n got %q\nwant %q", limit, keysOf(got), want)
		}
		var a protocol.Attendance
		if err := json.Unmarshal([]byte(r["attendance:"+engine.AttendanceID("A1", "trainee", t1)]), &a); err != nil {
			t.Fatalf("limit %d: %v", limit, err)
		}
		if !a.Present || len(a.CheckInIDs) != 2 {
			t.Errorf("limit %d: t1's presence %+v, want present with 2 check-ins", limit, a)
		}
		// The incremental replica is the snapshot.
		snap := replica{}
		pullAll(t, e, admin, "", limit, snap)
		if !maps.Equal(r, snap) {
			t.Errorf("limit %d: incremental replica differs from a snapshot", limit)
		}
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
	snap := replica{}
	pullAll(t, e, admin, "", 1000, snap)
	if !maps.Equal(r, snap) {
		for k, v := range snap {
			if r[k] != v {
				t.Errorf("%s: replica %s, snapshot %s", k, r[k], v)
			}
		}
		for k := range r {
			if _, ok := snap[k]; !ok {
				t.Errorf("%s: in the replica, not in the snapshot", k)
			}
		}
	}
	var n int
	e.DB.Read.QueryRow(`SELECT count(*) FROM attendance`).Scan(&n)
	if got := len(slices.DeleteFunc(slices.Collect(maps.Keys(snap)), func(k string) bool { return !strings.HasPrefix(k, "attendance:") })); got != n {
		t.Errorf("snapshot has %d presences, the table %d", got, n)
	}
}
