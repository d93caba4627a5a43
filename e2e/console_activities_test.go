package e2e_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestActivitiesSummaryFilters (issue #18, finding 8): the activities
// screen's summary (open, closed, present, places) equals the sums of the
// API's answer; the kind, status and text filters narrow the list and the
// summary; an admin has a region filter and reopens an activity only
// after a confirmation with a reason (audited); outside the edition the
// screen opens on the edition's nearest day.
func TestActivitiesSummaryFilters(t *testing.T) {
	srv, env := consoleFixture(t)
	staffCheckIns(t, env, [3]string{"MTG-0001", "trainee", traineeAit}, [3]string{"MTG-0001", "trainee", traineeBenaissa}, [3]string{"VIS-0001", "trainee", traineeAit})
	sup := env.Login(t, "sup.cs", "dev-sup-api")
	closeActivity(t, sup, "VIS-0001")
	var api struct {
		Date       string
		Activities []struct {
			Status   string `json:"status"`
			Present  int    `json:"present"`
			Capacity int    `json:"capacity"`
		}
	}
	if st := sup.Do(t, "GET", "/api/v1/review/activities", nil, &api); st != 200 {
		t.Fatalf("activities: %d", st)
	}
	want := map[string]int{}
	for _, a := range api.Activities {
		want[a.Status]++
		want["present"] += a.Present
		want["capacity"] += a.Capacity
	}
	if want["present"] != 3 || want["closed"] != 1 {
		t.Fatalf("the API's figures: %v", want)
	}

	ctx := consoleTab(t, srv, "sup.cs", 3*time.Minute)
	goTo(t, ctx, "#/activities", "activities")
	sum := func(k string) string {
		return eval[string](t, ctx, `document.querySelector('[data-test=sum-`+k+`]').dataset.value`)
	}
	for _, k := range []string{"open", "closed", "present", "capacity"} {
		if got := sum(k); got != fmt.Sprint(want[k]) {
			t.Errorf("summary %s: %s, the API's sum %d", k, got, want[k])
		}
	}
	if eval[bool](t, ctx, `!!document.querySelector('[data-test=filter-region]')`) {
		t.Error("a supervisor has a region filter")
	}
	eval[bool](t, ctx, `(document.querySelector('[data-test=activities-filters-box]').open = true)`)
	setSelect := func(name, v string) {
		eval[bool](t, ctx, fmt.Sprintf(`(() => { const s = document.querySelector('[data-test=filter-%s]'); s.value = %q; s.dispatchEvent(new Event('change')); return true; })()`, name, v))
	}
	shown := func() int {
		return eval[int](t, ctx, `document.querySelectorAll('[data-test=console-activity]').length`)
	}
	setSelect("kind", "company_visit")
	if n := shown(); n != 1 || sum("present") != "1" || sum("closed") != "1" {
		t.Errorf("company visits: %d shown, present %s, closed %s; want 1, 1, 1", n, sum("present"), sum("closed"))
	}
	setSelect("kind", "")
	setSelect("status", "open")
	if n := shown(); n != len(api.Activities)-1 {
		t.Errorf("open: %d shown, want %d", n, len(api.Activities)-1)
	}
	setSelect("status", "")
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`[data-test=filter-text]`), "numérique")); err != nil {
		t.Fatal(err)
	}
	if got := eval[[]string](t, ctx, `[...document.querySelectorAll('[data-test=console-activity]')].map(e => e.dataset.id)`); len(got) != 1 || got[0] != "MTG-0200" {
		t.Errorf("text filter: %v, want [MTG-0200]", got)
	}
	eval[bool](t, ctx, `(() => { const i = document.querySelector('[data-test=filter-text]'); i.value = ''; i.dispatchEvent(new Event('input')); return true; })()`)
	consoleShots(t, ctx, "console-activities", `!!document.querySelector('[data-test=activities-summary]')`)

	// An admin: the region filter, and a reopen asks first, with a reason.
	ctx2 := consoleTab(t, srv, "admin1", 3*time.Minute) // its own browser: another login
	goTo(t, ctx2, "#/activities", "activities")
	if n := eval[int](t, ctx2, `document.querySelectorAll('[data-test=filter-region] option[value=CS]').length`); n != 1 {
		t.Error("an admin has no region filter with CS")
	}
	jsClick(t, ctx2, `[data-test=console-activity][data-id="VIS-0001"] [data-test=reopen]`)
	waitFor(t, ctx2, "the reopen question", `!!document.querySelector('[data-test=reopen-reason]')`, 10*time.Second)
	jsClick(t, ctx2, `[data-test=reopen-confirm]`)
	if sqlValue[string](t, srv, `SELECT status FROM activities WHERE id = 'VIS-0001'`) != "closed" {
		t.Fatal("reopened without a reason or a confirmation")
	}
	if err := chromedp.Do(ctx2, chromedp.SendKeys(chromedp.CSS(`[data-test=reopen-reason]`), "feuille signée par erreur")); err != nil {
		t.Fatal(err)
	}
	jsClick(t, ctx2, `[data-test=reopen-confirm]`)
	waitFor(t, ctx2, "reopened", `!!document.querySelector('[data-test=console-activity][data-id="VIS-0001"][data-status=open]')`, 10*time.Second)
	if n := sqlValue[int](t, srv, `SELECT count(*) FROM audit_log WHERE action = 'activity.reopen' AND username = 'admin1' AND detail LIKE '%feuille signée par erreur%'`); n != 1 {
		t.Error("the reopen and its reason are not audited")
	}

	// Outside the edition: the nearest day (the edition is over: its last day).
	if _, err := srv.DB.Write.Exec(`UPDATE activities SET date = CASE WHEN id = 'MTG-0002' THEN '2026-03-24' ELSE '2026-03-23' END`); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx2, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx2, "the edition's last day", `(document.querySelector('[data-test=activities-day]') || {}).value === '2026-03-24'`, 20*time.Second)
	if n := eval[int](t, ctx2, `document.querySelectorAll('[data-test=console-activity]').length`); n != 1 {
		t.Errorf("the last day shows %d activities, want 1 (MTG-0002)", n)
	}
}
