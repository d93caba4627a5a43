package engine_test

import (
	"fmt"
	"strings"
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
	closed := func(e *engine.Engine) {
		if _, err := e.DB.Write.Exec(`UPDATE activities SET status = 'closed' WHERE id = 'BM-005'`); err != nil {
			t.Fatal(err)
		}
	}
	want, stats := groupVsAlone(t, closed, func(acts, trainees []string) []*protocol.PushRequest {
		start := eventNow.Add(-time.Hour)
		phA, phB, phC := synctest.NewPhone("dev-a", start), synctest.NewPhone("dev-b", start), synctest.NewPhone("dev-c", start)
		var a1 []protocol.Mutation
		for i := range 10 {
			a1 = append(a1, phA.CheckIn(acts[0], "trainee", trainees[i]))
		}
		walkIn := phB.Register("E1", "Nouvelle", "Venue")
		seqAgain := phA.CheckIn(acts[1], "trainee", trainees[40])
		seqAgain.Seq = a1[2].Seq // a new id under a seq dev-a already used
		return []*protocol.PushRequest{
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
	},
		`SELECT activity_id, person_kind, person_id, present, checked_in_at, check_in_ids, override FROM attendance WHERE activity_id <> 'BM-039' ORDER BY 1, 2, 3`,
		`SELECT id, activity_id, person_id, original_person_id, device_id, status, seq, walk_in FROM checkins WHERE activity_id <> 'BM-039' ORDER BY id`,
		`SELECT id, device_id, seq, type, status, code, message FROM mutation_log WHERE device_id <> 'dev-z' ORDER BY id`,
		`SELECT undo_id, checkin_id, activity_id, person_id, status FROM undo_targets ORDER BY 1, 2`,
		`SELECT kind, mutation_id, activity_id, device_id, status FROM flags ORDER BY 2, 1`,
		`SELECT id, last_name, version, source FROM trainees WHERE source = 'walk_in' OR version > 1 ORDER BY id`,
		`SELECT id, max_seq, seq_gaps, outbox_size FROM devices WHERE id <> 'dev-z' ORDER BY id`,
	)
	if stats.Groups != 2 || stats.Largest != int64(len(want)) || stats.Savepoints != 0 || stats.Failed != 0 {
		t.Fatalf("group stats %+v, want the %d batches in one group applied as one batch", stats, len(want))
	}
	// The batches meet as intended (else this test proves less).
	statuses := map[string]int{}
	for _, resp := range want {
		for _, r := range resp.Results {
			statuses[r.Status+":"+r.Outcome+r.Code]++
		}
	}
	for _, k := range []string{"duplicate:applied", "rejected:id_reused", "rejected:seq_reused", "flagged:late"} {
		if statuses[k] == 0 {
			t.Errorf("no result %s among %v", k, statuses)
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
