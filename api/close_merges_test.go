package api_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"prodays/internal/synctest"
	"prodays/sync/protocol"
)

// TestCloseWithPendingMerge (issue #18, finding 3): a walk-in checked in
// at A1 awaits a merge with the roster trainee of the same name; like an
// open flag, that pending merge keeps A1 from closing without a reason
// (409 review_pending, counted in pending_merges, also in the day's
// activities). Once the proposal is decided, A1 closes without one.
func TestCloseWithPendingMerge(t *testing.T) {
	env := syncEnv(t)
	staff := env.Login(t, "staff1", "dev-close")
	sup := env.Login(t, "sup1", "dev-close-sup")
	ph := synctest.NewPhone("dev-close", eventNow.Add(-time.Hour))
	walk := ph.Register("E1", "Nom0", "PrenomE10") // the roster's TraineesE1[0]
	a := send(t, env, "POST", "/api/v1/sync/push", staff.AccessToken, json.RawMessage(synctest.Body("dev-close", eventNow, 2,
		walk, ph.CheckIn("A1", "trainee", walk.Trainee.ID))))
	var pr protocol.PushResponse
	if json.Unmarshal(a.Body, &pr); a.Status != 200 || len(pr.Results) != 2 || pr.Results[1].Status != protocol.StatusApplied {
		t.Fatalf("push: %d %s", a.Status, a.Body)
	}
	var props struct {
		MergeProposals []struct {
			ID       int64  `json:"id"`
			WalkInID string `json:"walk_in_id"`
		} `json:"merge_proposals"`
	}
	if st := sup.Do(t, "GET", "/api/v1/review/merge-proposals", nil, &props); st != 200 || len(props.MergeProposals) != 1 || props.MergeProposals[0].WalkInID != walk.Trainee.ID {
		t.Fatalf("proposals: %d %+v, want the walk-in's", st, props)
	}

	a = send(t, env, "POST", "/api/v1/activities/A1/close", sup.AccessToken, nil)
	wantProblem(t, "close without a reason", a, 409, "review_pending")
	if d := a.JSON(); d["pending_merges"] != float64(1) || d["open_flags"] != float64(0) {
		t.Errorf("problem: pending_merges %v open_flags %v, want 1 and 0", d["pending_merges"], d["open_flags"])
	}
	var day struct {
		Activities []struct {
			ID            string `json:"activity_id"`
			PendingMerges int    `json:"pending_merges"`
		} `json:"activities"`
	}
	sup.Do(t, "GET", "/api/v1/review/activities?date="+synctest.Date, nil, &day)
	for _, act := range day.Activities {
		if want := map[string]int{"A1": 1}[act.ID]; act.PendingMerges != want {
			t.Errorf("activities of the day: %s pending_merges %d, want %d", act.ID, act.PendingMerges, want)
		}
	}

	if a := send(t, env, "POST", fmt.Sprintf("/api/v1/review/merge-proposals/%d/dismiss", props.MergeProposals[0].ID), sup.AccessToken, map[string]string{"reason": "two people"}); a.Status != 204 {
		t.Fatalf("dismiss: %d %s", a.Status, a.Body)
	}
	if a := send(t, env, "POST", "/api/v1/activities/A1/close", sup.AccessToken, nil); a.Status != 204 {
		t.Errorf("close once decided: %d %s, want 204", a.Status, a.Body)
	}
}
