package e2e_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"prodays/internal/testenv"
)

// TestHeldCheckInStaysVisible (issue #15 item 2), against the real server
// whose clock is 251 days ahead of the phone's: at an activity dated five
// days ago on the phone's clock, the screen says which day it is and the
// first check-in asks once (and not again after a reload); the server holds
// the check-ins for review (out_of_window), and the phone shows them as
// awaiting review with the reason, counted apart, and tells that its clock
// is off by 251 days; a supervisor accepts one through the API and the
// next pull turns it present; the other is undone like any check-in.
func TestHeldCheckInStaysVisible(t *testing.T) {
	f := newFixture(30)
	past := time.Now().AddDate(0, 0, -5)
	f.Activities = append(f.Activities, map[string]any{"activity_id": "MTG-0009", "kind": "meeting", "title": "Rencontre : métiers de la logistique",
		"date": past.Format("2006-01-02"), "start_time": "09:00", "end_time": "11:00", "establishment_code": "EFP0105", "company_id": "",
		"region_code": "CS", "capacity": 30, "speaker_ids": []string{}, "status": "open"})
	clk := &clock{}
	clk.Advance(251 * 24 * time.Hour)
	browser := newBrowser(t)
	srv := newServer(t, serverOptions{Clock: clk})
	f.seed(t, srv.DB)
	testenv.CreateUser(t, srv.DB, "sup.cs", "supervisor", "", "CS")
	ctx, cancel := newTab(t, browser, 3*time.Minute)
	defer cancel()
	loginAndDownload(t, ctx, srv)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/#/activity/MTG-0009")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the activity", `!!document.querySelector('#q')`, 10*time.Second)
	day := eval[string](t, ctx, `import('/js/i18n.js').then((i) => i.formatDay(`+jsString(past.Format("2006-01-02"))+`))`)
	if got := text(t, ctx, "[data-test=other-day]"); got != "Cette activité a lieu le "+day+", pas aujourd'hui." {
		t.Errorf("other-day notice: %q (day %q)", got, day)
	}

	// The first check-in asks; the second does not.
	startCheckIn := func(id string) { t.Helper(); tapCheckIn(t, ctx, id) }
	present := func(id string) string {
		return `import('/js/roster.js').then((r) => r.state('MTG-0009', { kind: 'trainee', id: ` + jsString(id) + ` }).present)`
	}
	// recorded: present while pending, held once the push is answered.
	recorded := func(id string) string {
		return `import('/js/roster.js').then((r) => { const s = r.state('MTG-0009', { kind: 'trainee', id: ` + jsString(id) + ` }); return s.present || !!s.held; })`
	}
	startCheckIn(traineeAit)
	waitFor(t, ctx, "the question", `!!document.querySelector('dialog[open] [data-test=other-day-confirm]')`, 5*time.Second)
	if eval[bool](t, ctx, present(traineeAit)) {
		t.Fatal("recorded before the answer")
	}
	jsClick(t, ctx, "[data-test=other-day-confirm]")
	waitFor(t, ctx, "Aït Baha recorded", recorded(traineeAit), 5*time.Second)
	startCheckIn(traineeBenaissa)
	waitFor(t, ctx, "Benaïssa recorded", recorded(traineeBenaissa), 5*time.Second)
	if eval[bool](t, ctx, `!!document.querySelector('dialog[open]')`) {
		t.Error("asked twice for one activity")
	}
	// Held from the start (out_of_window predicted), never counted present.
	if eval[bool](t, ctx, present(traineeAit)) || eval[bool](t, ctx, present(traineeBenaissa)) ||
		eval[string](t, ctx, `document.querySelector('[data-test=count]').dataset.present`) != "0" {
		t.Errorf("counted present while the server will hold it: %q", text(t, ctx, "[data-test=count]"))
	}

	// After the push: held, with the reason, counted apart, and the clock.
	waitFor(t, ctx, "an empty outbox", `document.querySelector('[data-test=pending]')?.dataset.count === '0'`, 20*time.Second)
	waitFor(t, ctx, "both held", `document.querySelector('[data-test=count]').dataset.held === '2'`, 10*time.Second)
	if got := text(t, ctx, "[data-test=count]"); !strings.HasPrefix(got, "0 présent / 30 places · 2 en attente") {
		t.Errorf("count: %q", got)
	}
	rows := `[data-test=recent] li[data-id="` + traineeAit + `"]`
	if got := text(t, ctx, rows+" [data-test=held]"); got != "En attente" {
		t.Errorf("held tag in the recent list: %q", got)
	}
	if got := text(t, ctx, rows+" [data-test=held-reason]"); got != "Heure hors des dates de l'activité : en attente d'un superviseur." {
		t.Errorf("held reason: %q", got)
	}
	if got := text(t, ctx, "[data-test=issues]"); got != "2 à vérifier" {
		t.Errorf("review count: %q", got)
	}
	if got := text(t, ctx, "[data-test=clock-skew]"); got != "Horloge décalée de 251 j" {
		t.Errorf("clock status: %q", got)
	}
	// At 360 px the message is a whole line under the row, not cut, and
	// the row keeps "Sync now" on its one line.
	if !eval[bool](t, ctx, `(() => {
		const n = document.querySelector('[data-test=clock-skew]');
		const a = document.querySelector('[data-test=status-row]').getBoundingClientRect();
		const b = document.querySelector('[data-test=sync-now]').getBoundingClientRect();
		return n.scrollWidth <= n.clientWidth && n.getBoundingClientRect().top >= a.bottom && b.top < a.bottom && a.top < b.bottom;
	})()`) {
		t.Errorf("clock message cut, or the sync button off the status row: %q", text(t, ctx, ".status"))
	}
	// Screenshots of the activity with its held rows and the status (fr
	// and ar, light and dark), looked at by whoever changes these screens.
	dir := screenshotDir(t)
	for _, l := range []string{"ar", "fr"} {
		chooseLang(t, ctx, l, `!!document.querySelector('#q') && document.querySelector('[data-test=count]')?.dataset.held === '2'`)
		for _, theme := range []string{"dark", "light"} {
			setTheme(t, ctx, theme)
			eval[bool](t, ctx, `(() => { window.scrollTo(0, 0); return true; })()`)
			phoneShot(t, ctx, dir, fmt.Sprintf("held-%s-%s", l, theme))
			eval[bool](t, ctx, `(() => { document.querySelector('[data-test=recent]').scrollIntoView(); return true; })()`)
			phoneShot(t, ctx, dir, fmt.Sprintf("held-rows-%s-%s", l, theme))
			if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 360 {
				t.Errorf("%s %s: the activity with held rows is %d px wide at 360 px", l, theme, w)
			}
		}
	}
	eval[bool](t, ctx, `(() => { window.scrollTo(0, 0); return true; })()`)
	// The search row of a held trainee says so too, and offers undo, not a second check-in.
	eval[bool](t, ctx, `(() => { const q = document.querySelector('#q'); q.value = `+jsString(traineeAit)+`; q.dispatchEvent(new Event('input')); return true; })()`)
	res := `[data-test=results] li[data-id="` + traineeAit + `"]`
	if !eval[bool](t, ctx, `!!document.querySelector('`+res+` [data-test=held]') && !!document.querySelector('`+res+` [data-test=undo]') && !document.querySelector('`+res+` [data-test=check-in]')`) {
		t.Errorf("search row of a held trainee: %q", text(t, ctx, res))
	}

	// A supervisor accepts Aït Baha's check-in: present after the next pull.
	mid := sqlValue[string](t, srv, `SELECT id FROM mutations WHERE type = 'attendance.check_in' AND json_extract(payload, '$.person.id') = ?`, traineeAit)
	flag := sqlValue[int](t, srv, `SELECT id FROM flags WHERE mutation_id = ?`, mid)
	sup := (&testenv.Env{DB: srv.DB, URL: srv.URL}).Login(t, "sup.cs", "dev-sup-held")
	if st := sup.Do(t, "POST", fmt.Sprintf("/api/v1/review/flags/%d/accept", flag), nil, nil); st != 204 {
		t.Fatalf("accept flag %d: %d", flag, st)
	}
	jsClick(t, ctx, "[data-test=sync-now]")
	waitFor(t, ctx, "Aït Baha present", present(traineeAit)+`.then((p) => p && document.querySelector('[data-test=count]').dataset.held === '1')`, 20*time.Second)
	if got := text(t, ctx, "[data-test=count]"); !strings.HasPrefix(got, "1 présent / 30 places · 1 en attente") {
		t.Errorf("count after the acceptance: %q", got)
	}
	if eval[bool](t, ctx, `!!document.querySelector('`+rows+` [data-test=held]')`) {
		t.Error("an accepted check-in still shows as held")
	}
	waitFor(t, ctx, "the accepted check-in off the review list", `(document.querySelector('[data-test=issues]') || {}).textContent === '1 à vérifier'`, 5*time.Second)

	// Benaïssa's held check-in is undone like any other.
	jsClick(t, ctx, `[data-test=recent] li[data-id="`+traineeBenaissa+`"] [data-test=recent-undo]`)
	waitFor(t, ctx, "nothing held", `document.querySelector('[data-test=count]').dataset.held === '0'`, 5*time.Second)
	waitFor(t, ctx, "the undo pushed", `document.querySelector('[data-test=pending]')?.dataset.count === '0'`, 20*time.Second)
	bid := sqlValue[string](t, srv, `SELECT id FROM mutations WHERE type = 'attendance.check_in' AND json_extract(payload, '$.person.id') = ?`, traineeBenaissa)
	if n := sqlValue[int](t, srv, `SELECT count(*) FROM mutations, json_each(mutations.payload, '$.undoes') u WHERE mutations.type = 'attendance.undo' AND u.value = ?`, bid); n != 1 {
		t.Errorf("undos naming Benaïssa's held check-in: %d, want 1", n)
	}

	// Asked once per activity: not again after a reload.
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the activity again", `document.documentElement.dataset.ready === '1' && !!document.querySelector('#q')`, 20*time.Second)
	startCheckIn(traineeByID)
	waitFor(t, ctx, "El Idrissi recorded", recorded(traineeByID), 5*time.Second)
	if eval[bool](t, ctx, `!!document.querySelector('dialog[open]')`) {
		t.Error("asked again after a reload")
	}
}
