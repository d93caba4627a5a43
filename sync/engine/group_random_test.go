package engine_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"

	"prodays/internal/synctest"
	"prodays/sync/engine"
	"prodays/sync/protocol"
)

// groupVsAlone pushes batches one by one on an engine without grouping,
// and all queued in order behind a held writer on a grouping engine (one
// group after a first push taken alone), and reports the differences of
// the answers and of the rows of queries (each run on both databases,
// which setup prepares alike). It returns the answers without grouping
// and the grouping engine's stats.
func groupVsAlone(t *testing.T, setup func(e *engine.Engine), batches func(acts, trainees []string) []*protocol.PushRequest, queries ...string) ([]*protocol.PushResponse, engine.GroupStats) {
	t.Helper()
	alone, grouped := mustEngine(t), mustEngine(t)
	alone.Group.MaxMutations = 0
	var trainees, acts []string
	for _, e := range []*engine.Engine{alone, grouped} {
		trainees, acts = benchRoster(t, e.DB)
		if setup != nil {
			setup(e)
		}
	}
	reqs := batches(acts, trainees)
	ctx := context.Background()
	var want []*protocol.PushResponse
	for _, req := range reqs {
		resp, err := alone.Push(ctx, synctest.Principal("staff1", req.DeviceID), req)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, resp)
	}
	reqs = batches(acts, trainees)
	release := holdWriter(t, grouped)
	start := eventNow.Add(-time.Hour)
	first := synctest.NewPhone("dev-z", start)
	firstDone := make(chan error, 1)
	go func() {
		_, err := grouped.Push(ctx, synctest.Principal("staff1", "dev-z"), synctest.Request(t, "dev-z", eventNow, first.CheckIn(acts[39], "trainee", trainees[3999])))
		firstDone <- err
	}()
	waitGroup(t, grouped, 0, 1)
	got := make([]*protocol.PushResponse, len(reqs))
	errs := make([]error, len(reqs))
	var wg sync.WaitGroup
	for i, req := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = grouped.Push(ctx, synctest.Principal("staff1", req.DeviceID), req)
		}()
		waitGroup(t, grouped, i+1, 1)
	}
	release()
	wg.Wait()
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	t.Logf("group stats %+v", grouped.GroupStats())
	for i := range reqs {
		if errs[i] != nil {
			t.Fatalf("batch %d: %v", i, errs[i])
		}
		if !reflect.DeepEqual(got[i].Results, want[i].Results) {
			t.Errorf("batch %d results:\n grouped %+v\n alone   %+v", i, got[i].Results, want[i].Results)
		}
		if got[i].Device.MaxSeq != want[i].Device.MaxSeq || !reflect.DeepEqual(got[i].Device.Gaps, want[i].Device.Gaps) {
			t.Errorf("batch %d device: grouped %+v, alone %+v", i, got[i].Device, want[i].Device)
		}
	}
	for _, q := range queries {
		if g, w := rowsOf(t, grouped, q), rowsOf(t, alone, q); g != w {
			t.Errorf("%s\n grouped:\n%s\n alone:\n%s", q, g, w)
		}
	}
	return want, grouped.GroupStats()
}

// TestGroupSeqOfInvalidID: a mutation refused without a usable id (not a
// UUID) keeps its seq: a later push of the same device reusing that seq is
// seq_reused, grouped as alone (grouped, the refused row is not written
// yet when the next batch preloads the device's seqs: a reviewer found it
// applied).
func TestGroupSeqOfInvalidID(t *testing.T) {
	groupVsAlone(t, nil, func(acts, trainees []string) []*protocol.PushRequest {
		ph := synctest.NewPhone("dev-a", eventNow.Add(-time.Hour))
		bad := ph.CheckIn(acts[0], "trainee", trainees[0])
		bad.ID = "not-a-uuid"
		again := ph.CheckIn(acts[0], "trainee", trainees[1])
		again.Seq = bad.Seq
		return []*protocol.PushRequest{
			synctest.Request(t, "dev-a", eventNow, bad),
			synctest.Request(t, "dev-a", eventNow, again),
		}
	}, `SELECT id, device_id, seq, status FROM checkins WHERE device_id = 'dev-a' ORDER BY id`,
		`SELECT id, device_id, seq, type, status, code FROM mutation_log WHERE device_id = 'dev-a' ORDER BY id`)
}

// TestGroupRandomMatchesAlone: random pushes of three devices meeting each
// other (check-ins of a few pairs, undos of any earlier check-in, resends,
// ids of another device, seqs used again, walk-ins registered and checked
// in, corrections, a closed activity), grouped and alone.
func TestGroupRandomMatchesAlone(t *testing.T) {
	for seed := range 60 {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			closed := func(e *engine.Engine) {
				if _, err := e.DB.Write.Exec(`UPDATE activities SET status = 'closed' WHERE id = 'BM-005'`); err != nil {
					t.Fatal(err)
				}
			}
			groupVsAlone(t, closed, func(acts, trainees []string) []*protocol.PushRequest {
				r := rand.New(rand.NewPCG(uint64(seed), 7))
				start := eventNow.Add(-time.Hour)
				devs := []string{"dev-a", "dev-b", "dev-c"}
				phones := map[string]*synctest.Phone{}
				sent := map[string][]protocol.Mutation{}
				for _, d := range devs {
					phones[d] = synctest.NewPhone(d, start)
				}
				var checkIns []protocol.Mutation
				var walkIns []string
				actsOf := []string{acts[0], acts[1], acts[5]}
				var reqs []*protocol.PushRequest
				for range 8 {
					d := devs[r.IntN(len(devs))]
					ph := phones[d]
					var ms []protocol.Mutation
					for range 1 + r.IntN(6) {
						var m protocol.Mutation
						switch k := r.IntN(100); {
						case k < 45:
							m = ph.CheckIn(actsOf[r.IntN(len(actsOf))], "trainee", trainees[r.IntN(3)])
							if r.IntN(8) == 0 {
								m.RecordedAt = m.RecordedAt.Add(-72 * time.Hour) // out of window
							}
							if r.IntN(8) == 0 {
								m.Person = &protocol.Person{Kind: "speaker", ID: "S1"}
							}
							checkIns = append(checkIns, m)
						case k < 62 && len(checkIns) > 0:
							c := checkIns[r.IntN(len(checkIns))]
							m = ph.Undo(c.ActivityID, c.Person.Kind, c.Person.ID, c.ID)
						case k < 68 && len(sent[d]) > 0:
							m = sent[d][r.IntN(len(sent[d]))] // resend
						case k < 74:
							o := devs[r.IntN(len(devs))]
							if o != d && len(sent[o]) > 0 {
								m = sent[o][r.IntN(len(sent[o]))] // another device's id
								m.Seq = ph.Seq + 1
								ph.Seq++
							} else {
								continue
							}
						case k < 79 && len(sent[d]) > 0:
							m = ph.CheckIn(actsOf[r.IntN(len(actsOf))], "trainee", trainees[r.IntN(3)])
							m.Seq = sent[d][r.IntN(len(sent[d]))].Seq // seq used again
						case k < 85:
							m = ph.Register("E1", "Nouvelle", "Venue")
							walkIns = append(walkIns, m.Trainee.ID)
						case k < 92 && len(walkIns) > 0:
							m = ph.CheckIn(actsOf[r.IntN(2)], "trainee", walkIns[r.IntN(len(walkIns))])
							checkIns = append(checkIns, m)
						default:
							m = ph.Update(trainees[r.IntN(3)], 1, map[string]string{"last_name": fmt.Sprint("N", r.IntN(3))})
						}
						ms = append(ms, m)
						sent[d] = append(sent[d], m)
					}
					reqs = append(reqs, synctest.Request(t, d, eventNow, ms...))
				}
				return reqs
			},
				`SELECT activity_id, person_kind, person_id, present, checked_in_at, check_in_ids, override FROM attendance WHERE activity_id <> 'BM-039' ORDER BY 1, 2, 3`,
				`SELECT id, activity_id, person_id, original_person_id, device_id, status, seq, walk_in FROM checkins WHERE activity_id <> 'BM-039' ORDER BY id`,
				`SELECT id, device_id, seq, type, status, code, message, review_decision FROM mutation_log WHERE device_id <> 'dev-z' ORDER BY id`,
				`SELECT undo_id, checkin_id, activity_id, person_id, status FROM undo_targets ORDER BY 1, 2`,
				`SELECT kind, mutation_id, activity_id, device_id, status, decided_by FROM flags ORDER BY 2, 1`,
				`SELECT id, last_name, version, source, deleted FROM trainees WHERE source = 'walk_in' OR version > 1 ORDER BY id`,
				`SELECT id, max_seq, seq_gaps, outbox_size FROM devices WHERE id <> 'dev-z' ORDER BY id`,
			)
		})
	}
}

// TestGroupSeqReusedNamesOwner: a seq used a third time is seq_reused,
// and the message names the mutation that owns the seq (the first), not
// the second one refused as seq_reused itself, grouped and alone (a
// reviewer found alone named whichever stored row was scanned last).
func TestGroupSeqReusedNamesOwner(t *testing.T) {
	groupVsAlone(t, nil, func(acts, trainees []string) []*protocol.PushRequest {
		ph := synctest.NewPhone("dev-a", eventNow.Add(-time.Hour))
		m1 := ph.Update(trainees[0], 1, map[string]string{"last_name": "N1"}) // a mutation_log row
		m2 := ph.CheckIn(acts[0], "trainee", trainees[1])
		m2.Seq = m1.Seq
		m3 := ph.CheckIn(acts[0], "trainee", trainees[2])
		m3.Seq = m1.Seq
		return []*protocol.PushRequest{
			synctest.Request(t, "dev-a", eventNow, m1),
			synctest.Request(t, "dev-a", eventNow, m2),
			synctest.Request(t, "dev-a", eventNow, m3),
		}
	})
}

// TestInvalidIDSeqInOnePush: the seq of a mutation refused without a
// usable id, used again in the same push, is seq_reused as in a later
// push (apply's early return for such a mutation had not recorded its
// seq: the root of TestGroupSeqOfInvalidID).
func TestInvalidIDSeqInOnePush(t *testing.T) {
	e := mustEngine(t)
	trainees, acts := benchRoster(t, e.DB)
	ph := synctest.NewPhone("dev-a", eventNow.Add(-time.Hour))
	bad := ph.CheckIn(acts[0], "trainee", trainees[0])
	bad.ID = "not-a-uuid"
	again := ph.CheckIn(acts[0], "trainee", trainees[1])
	again.Seq = bad.Seq
	resp, err := e.Push(context.Background(), synctest.Principal("staff1", "dev-a"), synctest.Request(t, "dev-a", eventNow, bad, again))
	if err != nil {
		t.Fatal(err)
	}
	if r := resp.Results[1]; r.Code != protocol.CodeSeqReused {
		t.Errorf("same push: %+v, want seq_reused as in a later push", r)
	}
}
