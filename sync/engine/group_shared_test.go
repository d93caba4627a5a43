package engine_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"prodays/internal/dbtest"
	"prodays/internal/synctest"
	"prodays/sync/engine"
	"prodays/sync/protocol"
)

// TestGroupSharedMatchesAlone: a group applied as one batch of all its
// mutations (one preload, one flush: applyShared) answers every batch and
// leaves the database exactly as the same batches pushed one after the
// other without grouping, when the batches meet each other inside the
// group: a second device checking in a pair the first one just did, a
// retry overlapping its first send, another device reusing a mutation id,
// an undo of a check-in of its batch and of an earlier batch, neither
// written yet, a seq used again, a walk-in
// registered in one batch and checked in by the next, a correction and a
// conflicting one, a late check-in on a closed activity.
func TestGroupSharedMatchesAlone(t *testing.T) {
	alone, grouped := mustEngine(t), mustEngine(t)
	alone.Group.MaxMutations = 0
	var trainees, acts []string
	for _, e := range []*engine.Engine{alone, grouped} {
		trainees, acts = benchRoster(t, e.DB)
		if _, err := e.DB.Write.Exec(`UPDATE activities SET status = 'closed' WHERE id = ?`, acts[5]); err != nil {
			t.Fatal(err)
		}
	}
	start := eventNow.Add(-time.Hour)
	phA, phB, phC := synctest.NewPhone("dev-a", start), synctest.NewPhone("dev-b", start), synctest.NewPhone("dev-c", start)
	var a1 []protocol.Mutation
	for i := range 10 {
		a1 = append(a1, phA.CheckIn(acts[0], "trainee", trainees[i]))
	}
	walkIn := phB.Register("E1", "Nouvelle", "Venue")
	seqAgain := phA.CheckIn(acts[1], "trainee", trainees[40])
	seqAgain.Seq = a1[2].Seq // a new id under a seq dev-a already used
	batches := []*protocol.PushRequest{
		synctest.Request(t, "dev-a", eventNow, append(a1, phA.Undo(acts[0], "trainee", trainees[3], a1[3].ID))...),
		// Before any flush: a1 is not written yet.
		synctest.Request(t, "dev-a", eventNow, seqAgain, phA.Undo(acts[0], "trainee", trainees[1], a1[1].ID)),
		synctest.Request(t, "dev-b", eventNow, phB.CheckIn(acts[0], "trainee", trainees[0]), phB.CheckIn(acts[1], "trainee", trainees[20]), walkIn),
		synctest.Request(t, "dev-a", eventNow, append(a1[5:], phA.CheckIn(acts[0], "trainee", trainees[10]), phA.CheckIn(acts[0], "trainee", trainees[11]))...),
		synctest.Request(t, "dev-c", eventNow, a1[0], phC.CheckIn(acts[2], "trainee", trainees[30])),
		synctest.Request(t, "dev-a", eventNow, phA.CheckIn(acts[0], "trainee", trainees[12]), phA.Update(trainees[3], 1, map[string]string{"last_name": "Corrigé"})),
		synctest.Request(t, "dev-b", eventNow, phB.CheckIn(acts[3], "trainee", walkIn.Trainee.ID), phB.CheckIn(acts[5], "trainee", trainees[50]),
			phB.Update(trainees[3], 1, map[string]string{"last_name": "Autre"}), phB.CheckIn(acts[0], "trainee", trainees[2])),
		synctest.Request(t, "dev-c", eventNow, phC.CheckIn(acts[2], "trainee", trainees[31]), phC.CheckIn(acts[2], "trainee", trainees[30])),
	}

	// Without grouping: one transaction a push, in order.
	ctx := context.Background()
	var want []*protocol.PushResponse
	for _, req := range batches {
		resp, err := alone.Push(ctx, synctest.Principal("staff1", req.DeviceID), req)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, resp)
	}
	if s := alone.GroupStats(); s.Groups != 0 {
		t.Fatalf("grouping off: %+v", s)
	}

	// Grouped: all of them queued in order behind a held writer.
	release := holdWriter(t, grouped)
	first := synctest.NewPhone("dev-d", start)
	firstDone := make(chan error, 1)
	go func() {
		_, err := grouped.Push(ctx, synctest.Principal("staff1", "dev-d"), synctest.Request(t, "dev-d", eventNow, first.CheckIn(acts[4], "trainee", trainees[0])))
		firstDone <- err
	}()
	waitGroup(t, grouped, 0, 1)
	got := make([]*protocol.PushResponse, len(batches))
	errs := make([]error, len(batches))
	var wg sync.WaitGroup
	for i, req := range batches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = grouped.Push(ctx, synctest.Principal("staff1", req.DeviceID), req)
		}()
		waitGroup(t, grouped, i+1, 1) // queued in this order
	}
	release()
	wg.Wait()
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	if s := grouped.GroupStats(); s.Groups != 2 || s.Largest != int64(len(batches)) || s.Savepoints != 0 || s.Failed != 0 {
		t.Fatalf("group stats %+v, want the %d batches in one group applied as one batch", s, len(batches))
	}
	statuses := map[string]int{}
	for i := range batches {
		if errs[i] != nil {
			t.Fatalf("batch %d: %v", i, errs[i])
		}
		if !reflect.DeepEqual(got[i].Results, want[i].Results) {
			t.Errorf("batch %d results:\n got %+v\nwant %+v", i, got[i].Results, want[i].Results)
		}
		if got[i].Device.MaxSeq != want[i].Device.MaxSeq || !reflect.DeepEqual(got[i].Device.Gaps, want[i].Device.Gaps) {
			t.Errorf("batch %d device: got %+v, want %+v", i, got[i].Device, want[i].Device)
		}
		for _, r := range want[i].Results {
			statuses[r.Status+":"+r.Outcome+r.Code]++
		}
	}
	// The batches meet as intended (else this test proves less).
	for _, k := range []string{"duplicate:applied", "rejected:id_reused", "rejected:seq_reused", "flagged:late"} {
		if statuses[k] == 0 {
			t.Errorf("no result %s among %v", k, statuses)
		}
	}
	for _, q := range []string{
		`SELECT activity_id, person_kind, person_id, present, checked_in_at, check_in_ids, override FROM attendance WHERE activity_id <> '%s' ORDER BY 1, 2, 3`,
		`SELECT id, activity_id, person_id, original_person_id, device_id, status, seq, walk_in FROM checkins WHERE activity_id <> '%s' ORDER BY id`,
		`SELECT id, device_id, seq, type, status, code, message FROM mutation_log WHERE device_id <> 'dev-d' AND '%s' <> '' ORDER BY id`,
		`SELECT undo_id, checkin_id, activity_id, person_id, status FROM undo_targets WHERE activity_id <> '%s' ORDER BY 1, 2`,
		`SELECT kind, mutation_id, activity_id, device_id, status FROM flags WHERE activity_id IS NOT '%s' ORDER BY 2, 1`,
		`SELECT id, last_name, version, source FROM trainees WHERE source = 'walk_in' OR version > 1 OR id = '%s' ORDER BY id`,
		`SELECT id, max_seq, seq_gaps, outbox_size FROM devices WHERE id <> 'dev-d' AND '%s' <> '' ORDER BY id`,
	} {
		q := fmt.Sprintf(q, acts[4])
		if g, w := rowsOf(t, grouped, q), rowsOf(t, alone, q); g != w {
			t.Errorf("%.60s…\n grouped:\n%s\n alone:\n%s", q, g, w)
		}
	}
}

// rowsOf returns the rows of q, one line each.
func rowsOf(t *testing.T, e *engine.Engine, q string) string {
	t.Helper()
	var b strings.Builder
	dbtest.EachRow(t, e.DB.Read, q, func(vals []any) { fmt.Fprintln(&b, vals...) })
	return b.String()
}
