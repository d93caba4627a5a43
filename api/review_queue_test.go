package api_test

import (
	"encoding/json"
	"net/url"
	"slices"
	"testing"
	"time"

	"prodays/internal/synctest"
	"prodays/internal/testenv"
)

// reviewPage is the JSON of GET /api/v1/review/items.
type reviewPage struct {
	Total  int            `json:"total"`
	Counts map[string]int `json:"counts"`
	Items  []struct {
		Ref      string `json:"ref"`
		Kind     string `json:"kind"`
		PersonID string `json:"person_id"`
		Pair     string `json:"pair"`
	} `json:"items"`
	Next string `json:"next"`
}

// TestReviewQueueAtSize (issue #18, finding 5): the review queue of a
// region lists its items with filters, search, a total and counts per
// kind (another region's items never), in stable pages; a mistyped
// matricule's check-in and its undo by the same phone are a pair that one
// bulk dismissal settles (each audited); another mistyped check-in is
// attached to the right trainee and then counts present.
func TestReviewQueueAtSize(t *testing.T) {
	env := syncEnv(t)
	staff := env.Login(t, "staff1", "dev-q1")
	staff3 := env.Login(t, "staff3", "dev-q3")
	sup := env.Login(t, "sup1", "dev-q-sup")
	if a := send(t, env, "POST", "/api/v1/activities/A2/close", sup.AccessToken, nil); a.Status != 204 {
		t.Fatalf("close A2: %d %s", a.Status, a.Body)
	}
	ph := synctest.NewPhone("dev-q1", eventNow.Add(-time.Hour))
	typo := ph.CheckIn("A1", "trainee", "F25000100099Z")
	undo := ph.Undo("A1", "trainee", "F25000100099Z", typo.ID)
	mistyped := ph.CheckIn("A1", "trainee", "F25000100004X") // meant synctest.TraineesE1[3]
	late := ph.CheckIn("A2", "trainee", synctest.TraineesE1[0])
	syncPush(t, env, staff.AccessToken, "dev-q1", typo, undo, mistyped, late)
	other := synctest.NewPhone("dev-q3", eventNow.Add(-time.Hour))
	syncPush(t, env, staff3.AccessToken, "dev-q3", other.CheckIn("B1", "trainee", "F25000300099Z"))

	get := func(q url.Values) reviewPage {
		t.Helper()
		var p reviewPage
		if st := sup.Do(t, "GET", "/api/v1/review/items?"+q.Encode(), nil, &p); st != 200 {
			t.Fatalf("items %v: %d", q, st)
		}
		return p
	}
	all := get(nil)
	refs := map[string]string{}
	for _, it := range all.Items {
		refs[it.Ref] = it.Pair
	}
	ckRef, undoRef, misRef := "mutation:"+typo.ID, "mutation:"+undo.ID, "mutation:"+mistyped.ID
	if all.Total != 4 || len(all.Items) != 4 || all.Counts["late"] != 1 || all.Counts["unknown_trainee"] < 2 {
		t.Fatalf("queue: total %d counts %v items %+v, want 4 items of RSK (late 1, unknown_trainee 2+)", all.Total, all.Counts, all.Items)
	}
	if refs[ckRef] != undoRef || refs[undoRef] != ckRef || refs[misRef] != "" {
		t.Errorf("pairs: %v, want %s and %s paired, %s alone", refs, ckRef, undoRef, misRef)
	}
	if p := get(url.Values{"kind": {"late"}}); p.Total != 1 || len(p.Items) != 1 || p.Items[0].Kind != "late" || p.Counts["unknown_trainee"] == 0 {
		t.Errorf("kind=late: %+v, want the late flag (and counts of every kind)", p)
	}
	if p := get(url.Values{"q": {"F25000100099"}}); p.Total != 2 {
		t.Errorf("search by matricule: %+v, want the typo and its undo", p)
	}
	if p := get(url.Values{"q": {"Nom0"}, "day": {"2026-03-24"}}); p.Total != 1 || p.Items[0].Kind != "late" {
		t.Errorf("search by name on A2's day: %+v, want the late check-in of Nom0", p)
	}
	var paged []string
	for q := (url.Values{"limit": {"1"}}); ; {
		p := get(q)
		for _, it := range p.Items {
			paged = append(paged, it.Ref)
		}
		if p.Next == "" {
			break
		}
		q.Set("after", p.Next)
	}
	var whole []string
	for _, it := range all.Items {
		whole = append(whole, it.Ref)
	}
	if !slices.Equal(paged, whole) {
		t.Errorf("pages of 1: %v, want %v", paged, whole)
	}

	// Attach the mistyped matricule to the right trainee: it counts.
	if a := send(t, env, "POST", "/api/v1/review/quarantine/"+mistyped.ID+"/attach", sup.AccessToken, map[string]string{"trainee_id": "F25000100099Z"}); a.Status != 404 {
		t.Errorf("attach to an unknown trainee: %d %s, want 404", a.Status, a.Body)
	}
	if a := send(t, env, "POST", "/api/v1/review/quarantine/"+mistyped.ID+"/attach", sup.AccessToken, map[string]string{"trainee_id": synctest.TraineesE1[3], "reason": "4 read as X"}); a.Status != 204 {
		t.Fatalf("attach: %d %s", a.Status, a.Body)
	}
	wantProblem(t, "the same attach again", answer(env.Send(t, "POST", "/api/v1/review/quarantine/"+mistyped.ID+"/attach", sup.AccessToken,
		map[string]string{"trainee_id": synctest.TraineesE1[3], "reason": "again"})), 409, "already_decided")
	var present int
	env.DB.Read.QueryRow(`SELECT count(*) FROM attendance WHERE activity_id = 'A1' AND person_kind = 'trainee' AND person_id = ? AND present = 1`, synctest.TraineesE1[3]).Scan(&present)
	if present != 1 {
		t.Errorf("after the attach: %d presences of the right trainee at A1, want 1", present)
	}

	// One decision settles the pair: dismissing the typo takes its undo.
	wantProblem(t, "accept without a reason", answer(env.Send(t, "POST", "/api/v1/review/items/decide", sup.AccessToken,
		map[string]any{"refs": []string{ckRef}, "action": "accept"})), 400, "invalid")
	var res struct {
		Decided []string `json:"decided"`
	}
	a := send(t, env, "POST", "/api/v1/review/items/decide", sup.AccessToken, map[string]any{"filter": map[string]string{"kind": "unknown_trainee", "q": "F25000100099Z"}, "action": "dismiss", "reason": "typo undone on the phone"})
	if json.Unmarshal(a.Body, &res); a.Status != 200 || !slices.Contains(res.Decided, ckRef) || !slices.Contains(res.Decided, undoRef) {
		t.Fatalf("bulk dismiss: %d %s, want the typo and its undo decided", a.Status, a.Body)
	}
	var audited int
	env.DB.Read.QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'review.quarantine_acknowledged' AND username = 'sup1' AND target IN (?, ?)`, ckRef, undoRef).Scan(&audited)
	if audited != 2 {
		t.Errorf("audited decisions of the pair: %d, want 2", audited)
	}
	if p := get(nil); p.Total != 1 || p.Items[0].Kind != "late" {
		t.Errorf("queue after the decisions: %+v, want only the late flag", p)
	}
}

// TestSearchTrainees: the console's search to attach a mistyped
// matricule finds the region's trainees by the beginning of a matricule
// or part of a name, never another region's (admins: all); a one-letter
// search and a bad limit are refused, and a staff member may not search.
func TestSearchTrainees(t *testing.T) {
	env := syncEnv(t)
	sup := env.Login(t, "sup1", "dev-ts-sup")
	admin := env.Login(t, "admin", "dev-ts-admin")
	staff := env.Login(t, "staff1", "dev-ts-staff")
	type hits struct {
		Trainees []struct {
			ID                string `json:"trainee_id"`
			LastName          string `json:"last_name"`
			EstablishmentCode string `json:"establishment_code"`
		} `json:"trainees"`
	}
	ids := func(s *testenv.Session, q string) []string {
		t.Helper()
		var h hits
		if st := s.Do(t, "GET", "/api/v1/review/trainees?"+url.Values{"q": {q}}.Encode(), nil, &h); st != 200 {
			t.Fatalf("search %q: %d", q, st)
		}
		out := []string{}
		for _, x := range h.Trainees {
			out = append(out, x.ID)
		}
		return out
	}
	if got := ids(sup, "F2500010000"); !slices.Equal(got, synctest.TraineesE1) {
		t.Errorf("matricule prefix: %v, want E1's %v", got, synctest.TraineesE1)
	}
	if got, want := ids(sup, "nom1 prenom"), []string{synctest.TraineesE1[1], synctest.TraineesE2[1]}; !slices.Equal(got, want) {
		t.Errorf("name in the supervisor's region: %v, want %v (not E3's, another region)", got, want)
	}
	if got, want := ids(admin, "Nom1 "), []string{synctest.TraineesE1[1], synctest.TraineesE2[1], synctest.TraineesE3[1]}; !slices.Equal(got, want) {
		t.Errorf("admin: %v, want %v", got, want)
	}
	if got := ids(sup, "F25000300001A"); len(got) != 0 {
		t.Errorf("another region's trainee found: %v", got)
	}
	for _, q := range []string{"/api/v1/review/trainees?q=F", "/api/v1/review/trainees?q=Nom&limit=0", "/api/v1/review/trainees?q=Nom&limit=101"} {
		if st := sup.Do(t, "GET", q, nil, nil); st != 400 {
			t.Errorf("%s: %d, want 400", q, st)
		}
	}
	if st := staff.Do(t, "GET", "/api/v1/review/trainees?q=Nom", nil, nil); st != 403 {
		t.Errorf("staff search: %d, want 403", st)
	}
}
