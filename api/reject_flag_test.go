package api_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"prodays/internal/synctest"
)

// TestRejectedFlagStaysDecided (issue #18, finding 4): a late check-in
// (after the close) is flagged; the supervisor rejects the flag. The
// decision closes the item: the mutation is not in the refused actions to
// review (nor any open list), and the history (quarantine?all=1, rejected
// flags) shows it decided by the supervisor with the reason.
func TestRejectedFlagStaysDecided(t *testing.T) {
	env := syncEnv(t)
	staff := env.Login(t, "staff1", "dev-late-flag")
	sup := env.Login(t, "sup1", "dev-late-flag-sup")
	if a := send(t, env, "POST", "/api/v1/activities/A1/close", sup.AccessToken, nil); a.Status != 204 {
		t.Fatalf("close: %d %s", a.Status, a.Body)
	}
	ph := synctest.NewPhone("dev-late-flag", eventNow.Add(-time.Hour))
	late := ph.CheckIn("A1", "trainee", synctest.TraineesE1[0])
	if a := send(t, env, "POST", "/api/v1/sync/push", staff.AccessToken, json.RawMessage(synctest.Body("dev-late-flag", eventNow, 1, late))); a.Status != 200 {
		t.Fatalf("push: %d %s", a.Status, a.Body)
	}
	type flags struct {
		Flags []struct {
			ID         int64  `json:"id"`
			MutationID string `json:"mutation_id"`
			Status     string `json:"status"`
		} `json:"flags"`
	}
	var open flags
	if sup.Do(t, "GET", "/api/v1/review/flags", nil, &open); len(open.Flags) != 1 || open.Flags[0].MutationID != late.ID {
		t.Fatalf("open flags: %+v, want the late check-in's", open)
	}
	if a := send(t, env, "POST", fmt.Sprintf("/api/v1/review/flags/%d/reject", open.Flags[0].ID), sup.AccessToken, map[string]string{"reason": "left before the start"}); a.Status != 204 {
		t.Fatalf("reject: %d %s", a.Status, a.Body)
	}

	type quarantine struct {
		Mutations []struct {
			ID             string `json:"id"`
			Code           string `json:"code"`
			Decision       string `json:"decision"`
			DecidedBy      string `json:"decided_by"`
			DecisionReason string `json:"decision_reason"`
		} `json:"mutations"`
	}
	var toReview, history quarantine
	sup.Do(t, "GET", "/api/v1/review/quarantine", nil, &toReview)
	for _, m := range toReview.Mutations {
		if m.ID == late.ID {
			t.Errorf("the rejected flag's check-in is back in the refused actions to review: %+v", m)
		}
	}
	if sup.Do(t, "GET", "/api/v1/review/flags", nil, &open); len(open.Flags) != 0 {
		t.Errorf("open flags after the decision: %+v", open)
	}
	sup.Do(t, "GET", "/api/v1/review/quarantine?all=1", nil, &history)
	found := false
	for _, m := range history.Mutations {
		if m.ID == late.ID {
			found = true
			if m.Code != "flag_rejected" || m.Decision != "acknowledged" || m.DecidedBy != "sup1" || m.DecisionReason != "left before the start" {
				t.Errorf("history: %+v, want flag_rejected decided (acknowledged) by sup1 with the reason", m)
			}
		}
	}
	if !found {
		t.Errorf("the rejected check-in is not in the history: %+v", history)
	}
	var rejected flags
	if sup.Do(t, "GET", "/api/v1/review/flags?status=rejected", nil, &rejected); len(rejected.Flags) != 1 || rejected.Flags[0].MutationID != late.ID {
		t.Errorf("rejected flags: %+v, want the late check-in's", rejected)
	}
}
