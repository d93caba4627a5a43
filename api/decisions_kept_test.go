package api_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"prodays"
	"prodays/internal/synctest"
	"prodays/sync/protocol"
)

// The tests of this file (issue #18, findings 2 to 4) check that what was
// decided on the server stays decided: a re-import keeps the fields
// changed since, a pending merge keeps an activity from closing without a
// reason, a rejected flag stays out of every list to review.

// TestReimportKeepsServerChanges (issue #18, finding 2): a trainees file
// of three new trainees is imported; then a phone corrects a first name and two phones write
// different groups from the same version (a conflict a supervisor
// confirms). Re-importing the same file keeps both server values and lists
// each field with both values, while the file's own change of another
// trainee's programme applies; with overwrite_local_changes=true the file's
// values are taken (and listed as not kept).
func TestReimportKeepsServerChanges(t *testing.T) {
	env := syncEnv(t)
	admin := env.Login(t, "admin", "dev-reimport-admin")
	sup := env.Login(t, "sup1", "dev-reimport-sup")
	s1 := env.Login(t, "staff1", "dev-reimport-1")
	s2 := env.Login(t, "staff1", "dev-reimport-2")
	ids := []string{"F25000100001Q", "F25000100002R", "F25000100003S"} // matricules with their check letters
	target, other := ids[0], ids[1]

	file := func(otherProgram string) []byte {
		b := []byte("trainee_id,last_name,first_name,establishment_code,program,group,gender\n")
		for i, id := range ids {
			program := "Dev"
			if id == other {
				program = otherProgram
			}
			b = fmt.Appendf(b, "%s,Nom%d,PrenomE1%d,E1,%s,G1,F\n", id, i, i, program)
		}
		return b
	}
	imp := func(body []byte, fields map[string]string) prodays.ImportReport {
		t.Helper()
		b, ct := multipartBody("trainees.csv", body, fields)
		a := env.Raw(t, "POST", "/api/v1/admin/import/trainees", admin.AccessToken, ct, b)
		if a.Status != 200 {
			t.Fatalf("import: %d %s", a.Status, a.Body)
		}
		var r prodays.ImportReport
		if err := json.Unmarshal(a.Body, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := imp(file("Dev"), nil); len(r.LocalChanges) != 0 {
		t.Fatalf("first import: local changes %+v", r.LocalChanges)
	}

	p1 := synctest.NewPhone("dev-reimport-1", eventNow.Add(-time.Hour))
	p2 := synctest.NewPhone("dev-reimport-2", eventNow.Add(-50*time.Minute))
	syncPush(t, env, s1.AccessToken, "dev-reimport-1", p1.Update(target, 1, map[string]string{"first_name": "Yasmine", "group": "G2"}))
	syncPush(t, env, s2.AccessToken, "dev-reimport-2", p2.Update(target, 1, map[string]string{"group": "G3"}))
	var conflicts struct {
		Conflicts []struct {
			ID          int64  `json:"id"`
			Field       string `json:"field"`
			WinnerValue string `json:"winner_value"`
		} `json:"conflicts"`
	}
	if sup.Do(t, "GET", "/api/v1/review/conflicts", nil, &conflicts); len(conflicts.Conflicts) != 1 || conflicts.Conflicts[0].Field != "group" {
		t.Fatalf("conflicts: %+v, want one on group", conflicts)
	}
	group := conflicts.Conflicts[0].WinnerValue
	decideItem(t, env, sup, "conflicts", conflicts.Conflicts[0].ID, "confirm", "checked")
	current := func(id string) (first, grp, program string) {
		env.DB.Read.QueryRow(`SELECT first_name, group_name, program FROM trainees WHERE id = ?`, id).Scan(&first, &grp, &program)
		return
	}

	r := imp(file("Réseaux"), nil)
	var got []string
	for _, c := range r.LocalChanges {
		got = append(got, fmt.Sprintf("%d %s %s %q %q %v", c.Line, c.TraineeID, c.Field, c.ServerValue, c.FileValue, c.Kept))
	}
	want := []string{fmt.Sprintf(`2 %s first_name "Yasmine" "PrenomE10" true`, target), fmt.Sprintf(`2 %s group %q "G1" true`, target, group)}
	if !slices.Equal(got, want) {
		t.Errorf("re-import local changes: %q, want %q", got, want)
	}
	if f, g, _ := current(target); f != "Yasmine" || g != group {
		t.Errorf("after the re-import: %s %s, want the server's Yasmine %s", f, g, group)
	}
	if _, _, p := current(other); p != "Réseaux" {
		t.Errorf("the file's own change: program %q, want Réseaux", p)
	}
	if c := r.Counts["trainees"]; c.Updated != 1 {
		t.Errorf("re-import counts %+v, want 1 updated (the programme)", c)
	}

	r = imp(file("Réseaux"), map[string]string{"overwrite_local_changes": "true"})
	if len(r.LocalChanges) != 2 || r.LocalChanges[0].Kept || r.LocalChanges[1].Kept {
		t.Errorf("overwrite: local changes %+v, want the two fields, not kept", r.LocalChanges)
	}
	if f, g, _ := current(target); f != "PrenomE10" || g != "G1" {
		t.Errorf("after the overwrite: %s %s, want the file's PrenomE10 G1", f, g)
	}
}

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
	if pr := syncPush(t, env, staff.AccessToken, "dev-close", walk, ph.CheckIn("A1", "trainee", walk.Trainee.ID)); len(pr.Results) != 2 || pr.Results[1].Status != protocol.StatusApplied {
		t.Fatalf("push: %+v", pr.Results)
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

	a := send(t, env, "POST", "/api/v1/activities/A1/close", sup.AccessToken, nil)
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

	decideItem(t, env, sup, "merge-proposals", props.MergeProposals[0].ID, "dismiss", "two people")
	if a := send(t, env, "POST", "/api/v1/activities/A1/close", sup.AccessToken, nil); a.Status != 204 {
		t.Errorf("close once decided: %d %s, want 204", a.Status, a.Body)
	}
}

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
	syncPush(t, env, staff.AccessToken, "dev-late-flag", late)
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
	decideItem(t, env, sup, "flags", open.Flags[0].ID, "reject", "left before the start")

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
