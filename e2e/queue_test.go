package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"prodays/internal/testenv"
	"prodays/simulate"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"prodays/internal/synctest"
	"prodays/sync/protocol"
)

// TestSupervisorClearsDayAtSize (issue #18, findings 5 and 7): a region's
// day with refused actions at size, pushed through the real push API by
// two phones: 12 mistyped matricules each undone by the same phone (12
// cancelling pairs), one mistyped matricule of a real trainee, 8
// check-ins out of the staff member's scope from a second phone that
// still holds 9 mutations. The supervisor, in the browser, sees the total
// and the counts per kind of the server, attaches the mistyped matricule
// to the right trainee by a search (it then counts in the bilan), settles
// one pair with the page keeping its place, filters the rest of the pairs
// and dismisses them in bulk (a confirmation says how many), filters the
// second phone and counts its check-ins present in bulk with one reason;
// the queue is then empty on the server. The devices view, filtered to
// "pending", lists exactly the phone that holds something. Screenshots
// of both screens at 360 and 1280 px, in French and Arabic.
func TestSupervisorClearsDayAtSize(t *testing.T) {
	srv, env := consoleFixture(t)
	staff := env.Login(t, "s.staff", "dev-staff")
	staff2 := env.Login(t, "s.staff", "dev-staff-2")
	sup := env.Login(t, "sup.cs", "dev-sup-api")
	now := time.Now()

	ph := synctest.NewPhone("dev-staff", now.Add(-10*time.Minute))
	var first []protocol.Mutation
	for i := range 12 {
		typo := ph.CheckIn("MTG-0001", "trainee", matricule(25, 105, 900+i))
		first = append(first, typo, ph.Undo("MTG-0001", "trainee", matricule(25, 105, 900+i), typo.ID))
	}
	right := matricule(25, 105, 110) // El Amrani Youssef in the fixture
	mistyped := ph.CheckIn("MTG-0001", "trainee", matricule(25, 105, 999))
	first = append(first, mistyped)
	push(t, staff, synctest.Body("dev-staff", now, len(first), first...)) // sent everything
	ph2 := synctest.NewPhone("dev-staff-2", now.Add(-5*time.Minute))
	var second []protocol.Mutation
	for i := range 8 {
		second = append(second, ph2.CheckIn("MTG-0200", "trainee", matricule(25, 105, 104+i)))
	}
	push(t, staff2, synctest.Body("dev-staff-2", now, len(second)+9, second...)) // 9 still on the phone

	var page struct {
		Total  int            `json:"total"`
		Counts map[string]int `json:"counts"`
	}
	if st := sup.Do(t, "GET", "/api/v1/review/items", nil, &page); st != 200 || page.Total != 33 {
		t.Fatalf("the region's queue: %d, total %d, want 33 items (12 pairs, one mistyped, 8 out of scope)", st, page.Total)
	}
	before := bilanFigure(t, sup, "beneficiaries")

	ctx := consoleTab(t, srv, "sup.cs", 4*time.Minute)
	goTo(t, ctx, "#/review", "review")
	// The page's total and counts per kind are the server's; the 12
	// cancelling pairs are shown as pairs (checked in one evaluation: the
	// queue may be redrawn in between).
	counts, err := json.Marshal(page.Counts)
	if err != nil {
		t.Fatal(err)
	}
	shownCounts := `JSON.stringify(Object.fromEntries([...document.querySelectorAll('[data-test^=review-count-]')].map((b) => [b.dataset.test.slice(13), +b.dataset.value]).sort()))`
	waitFor(t, ctx, "the queue's total, counts and pairs", fmt.Sprintf(`(document.querySelector('[data-test=review-total]') || {dataset: {}}).dataset.value === '%d' && %s === %s && document.querySelectorAll('[data-test=item-quarantine][data-pair]').length === 24`,
		page.Total, shownCounts, jsString(string(counts))), 20*time.Second)
	axe := axeSource(t)
	for _, v := range runAxe(t, ctx, axe) {
		t.Errorf("review queue, axe-core %s (%s): %s %v", v.ID, v.Impact, v.Help, v.Nodes)
	}
	consoleShots(t, ctx, "queue", `!!document.querySelector('[data-test=review-total]')`)

	// A mistyped matricule attached to the right trainee by a search.
	card := fmt.Sprintf(`[data-test=item-quarantine][data-id=%q]`, mistyped.ID)
	eval[bool](t, ctx, `(document.querySelector(`+jsString(card+` [data-test=attach]`)+`).open = true, true)`)
	eval[bool](t, ctx, `(document.querySelector(`+jsString(card+` [data-test=attach-search]`)+`).value = '', true)`)
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(card+` [data-test=attach-search]`), "Amrani")); err != nil {
		t.Fatal(err)
	}
	jsClick(t, ctx, card+` [data-test=attach-find]`)
	pick := fmt.Sprintf(`%s [data-test=attach-pick][data-id=%q]`, card, right)
	waitFor(t, ctx, "the trainee found", `!!document.querySelector(`+jsString(pick)+`)`, 10*time.Second)
	jsClick(t, ctx, pick)
	waitFor(t, ctx, "the attach done", `!!document.querySelector('[data-test=review-notice]') && !document.querySelector(`+jsString(card)+`)`, 10*time.Second)
	if n := sqlValue[int](t, srv, `SELECT count(*) FROM attendance WHERE activity_id = 'MTG-0001' AND person_id = ? AND present = 1`, right); n != 1 {
		t.Errorf("the attached check-in is not a presence of %s: %d rows", right, n)
	}
	if got := bilanFigure(t, sup, "beneficiaries"); got != before+1 {
		t.Errorf("bilan after the attach: %d beneficiaries, want %d", got, before+1)
	}

	// One pair settled from mid-page: the page keeps its place.
	ref := eval[string](t, ctx, `document.querySelectorAll('[data-test=item-quarantine][data-pair]')[8].dataset.ref`)
	top := eval[float64](t, ctx, fmt.Sprintf(`(() => { document.querySelector('[data-ref=%q]').scrollIntoView({block: 'center'}); return document.scrollingElement.scrollTop; })()`, ref))
	jsClick(t, ctx, fmt.Sprintf(`[data-ref=%q] [data-test=act-pair]`, ref))
	waitFor(t, ctx, "the pair settled", fmt.Sprintf(`!document.querySelector('[data-ref=%q]') && !!document.querySelector('[data-test=review-notice]')`, ref), 10*time.Second)
	if after := eval[float64](t, ctx, `document.scrollingElement.scrollTop`); top <= 0 || after != top {
		t.Errorf("scroll after settling a pair: %v, want it kept at %v (> 0)", after, top)
	}
	if got := eval[string](t, ctx, `document.querySelector('[data-test=review-total]').dataset.value`); got != "30" {
		t.Errorf("total after the attach and one pair: %s, want 30", got)
	}

	// The first phone's remaining pairs: filtered, selected all, dismissed
	// after a confirmation saying how many.
	queueFilter(t, ctx, "device", "dev-staff")
	if got := eval[string](t, ctx, `document.querySelector('[data-test=review-total]').dataset.value`); got != "22" {
		t.Errorf("items of dev-staff: %s, want 22 (11 pairs)", got)
	}
	queueBulk(t, ctx, "dismiss", "", 22)
	queueFilter(t, ctx, "device", "dev-staff-2")
	queueBulk(t, ctx, "accept", "feuille papier signée par le formateur", 8)
	if n := sqlValue[int](t, srv, `SELECT count(*) FROM attendance WHERE activity_id = 'MTG-0200' AND override = 'present'`); n != 8 {
		t.Errorf("check-ins counted present in bulk: %d, want 8", n)
	}
	if n := sqlValue[int](t, srv, `SELECT count(*) FROM audit_log WHERE username = 'sup.cs' AND action LIKE 'review.%'`); n < 32 {
		t.Errorf("audited decisions: %d, want one per item (at least 32)", n)
	}
	if st := sup.Do(t, "GET", "/api/v1/review/items", nil, &page); st != 200 || page.Total != 0 {
		t.Errorf("the region's queue after the day's end: total %d, want 0", page.Total)
	}

	// Devices: "pending" lists exactly the phones holding something.
	goTo(t, ctx, "#/devices", "devices")
	eval[bool](t, ctx, `(() => { const s = document.querySelector('[data-test=device-show]'); s.value = 'pending'; s.dispatchEvent(new Event('change')); return true; })()`)
	waitFor(t, ctx, "the pending phones", `!!document.querySelector('[data-test=device-count][data-show=pending]')`, 20*time.Second)
	shown := eval[[]string](t, ctx, `[...document.querySelectorAll('[data-test=device]')].map((d) => d.dataset.id)`)
	if want := []string{"dev-staff-2"}; !slices.Equal(shown, want) {
		t.Errorf("phones with something pending: %v, want %v", shown, want)
	}
	if got := eval[string](t, ctx, `document.querySelector('[data-test=device][data-id="dev-staff-2"] [data-test=outbox]').dataset.value`); got != "9" {
		t.Errorf("dev-staff-2 holds %s, want 9", got)
	}
	if got := eval[string](t, ctx, `document.querySelector('[data-test=summary-pending]').dataset.value`); got != "1" {
		t.Errorf("summary pending: %s, want 1", got)
	}
	jsClick(t, ctx, `[data-test=device-csv]`)
	waitFor(t, ctx, "the CSV", `!!document.querySelector('[data-test=device-csv]').dataset.size`, 20*time.Second)
	if typ := eval[string](t, ctx, `document.querySelector('[data-test=device-csv]').dataset.type`); !strings.HasPrefix(typ, "text/csv") {
		t.Errorf("devices export type %q", typ)
	}
	eval[bool](t, ctx, `(() => { const s = document.querySelector('[data-test=device-show]'); s.value = ''; s.dispatchEvent(new Event('change')); return true; })()`)
	waitFor(t, ctx, "every phone", `!!document.querySelector('[data-test=device-count][data-show=""]') && document.querySelectorAll('[data-test=device]').length >= 2`, 20*time.Second)
	// 360 px: no card wider than the screen.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 740, chromedp.EmulateScale(1))); err != nil {
		t.Fatal(err)
	}
	if w := eval[float64](t, ctx, `document.scrollingElement.scrollWidth`); w > 360 {
		t.Errorf("the devices screen is %.0f px wide on a 360 px phone", w)
	}
	for _, v := range runAxe(t, ctx, axe) {
		t.Errorf("devices, axe-core %s (%s): %s %v", v.ID, v.Impact, v.Help, v.Nodes)
	}
	consoleShots(t, ctx, "devices", `!!document.querySelector('[data-test=device-summary]')`)
}

// bilanFigure is one figure (key) of the bilan s's user sees
// (GET /api/v1/reports/bilan).
func bilanFigure(t *testing.T, s *testenv.Session, key string) int {
	t.Helper()
	var b map[string]json.RawMessage
	if st := s.Do(t, "GET", "/api/v1/reports/bilan", nil, &b); st != 200 {
		t.Fatalf("bilan: %d", st)
	}
	var n int
	if err := json.Unmarshal(b[key], &n); err != nil {
		t.Fatalf("bilan %s = %s: %v", key, b[key], err)
	}
	return n
}

// queueFilter sets a filter of the review queue (key q: the search) and waits for the
// filtered queue.
func queueFilter(t *testing.T, ctx context.Context, key, value string) {
	t.Helper()
	sel := `[data-test=filter-` + key + `]`
	if key == "q" {
		sel = `[data-test=review-search]`
	}
	// Set and submitted in one evaluation: the queue may be redrawn in between.
	waitFor(t, ctx, "the filter "+key, `(() => { const e = document.querySelector(`+jsString(sel)+`), b = document.querySelector('[data-test=filter-apply]');
		if (!e || !b) return false; e.value = `+jsString(value)+`; b.click(); return true; })()`, 20*time.Second)
	waitFor(t, ctx, "the filtered queue", `!!document.querySelector('[data-test=review-total]') && document.querySelector(`+jsString(sel)+`).value === `+jsString(value), 20*time.Second)
}

// queueBulk decides every item of the filtered queue (action, reason),
// checks that the confirmation says want items, and waits for an empty
// filtered queue.
func queueBulk(t *testing.T, ctx context.Context, action, reason string, want int) {
	t.Helper()
	jsClick(t, ctx, `[data-test=bulk-select-all]`)
	eval[bool](t, ctx, `(document.querySelector('[data-test=bulk-action]').value = `+jsString(action)+`, document.querySelector('[data-test=bulk-reason]').value = `+jsString(reason)+`, true)`)
	jsClick(t, ctx, `[data-test=bulk-apply]`)
	waitFor(t, ctx, "the confirmation", `!!document.querySelector('[data-test=bulk-confirm]')`, 10*time.Second)
	if q := text(t, ctx, `[data-test=bulk-question]`); digits(q) != fmt.Sprint(want) {
		t.Errorf("confirmation %q does not say %d items", q, want)
	}
	jsClick(t, ctx, `[data-test=bulk-confirm]`)
	waitFor(t, ctx, "the bulk decision", `!!document.querySelector('[data-test=review-notice]') && document.querySelector('[data-test=review-total]').dataset.value === '0'`, 20*time.Second)
}

// digits keeps the digits of s (a number in a sentence).
func digits(s string) string {
	out := []rune{}
	for _, r := range s {
		if r >= '0' && r <= '9' {
			out = append(out, r)
		}
	}
	return string(out)
}

// TestSupervisorClearsSmallNastyDay (issue #18): small-nasty
// (../shared/datasets/small-nasty) imported and replayed by its phones
// through the real server, then, on the day of an open meeting of its
// region, a staff phone pushes 6 mistyped matricules each undone, one
// mistyped matricule of a real trainee, and still holds 3 mutations. The
// region's supervisor, in the browser, filters the queue to that day,
// attaches the mistyped matricule to the trainee (the bilan gains that
// participation) and clears every kind of the day by bulk decisions; the
// queue of the day is then empty on the server, and the devices view
// filtered to "pending" lists exactly the phones the server says hold
// something.
func TestSupervisorClearsSmallNastyDay(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: replays small-nasty and drives a browser")
	}
	clearReplayedDay(t, "small-nasty")
}

// TestSupervisorClearsEditionDay is TestSupervisorClearsSmallNastyDay on
// the full 2026 edition replayed (issue #18: the consoles at real size).
func TestSupervisorClearsEditionDay(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: imports and replays the whole 2026 edition and drives a browser")
	}
	clearReplayedDay(t, "prodays-2026")
}

// clearReplayedDay imports and replays the dataset name of ../shared,
// then runs a supervisor's day's end (TestSupervisorClearsSmallNastyDay).
func clearReplayedDay(t *testing.T, name string) {
	began := time.Now()
	srv, clk, dir := editionServer(t, name)
	plan, err := simulate.LoadFile(filepath.Join(dir, "checkins.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	testenv.SetPasswords(t, srv.DB, plan.Usernames()...)
	sum, err := simulate.New(plan, srv.URL, simulate.Options{Password: testenv.Password, Concurrency: 8, Seed: 1, Timeout: 10 * time.Minute}).Run(context.Background())
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	var printed strings.Builder
	sum.Print(&printed)
	t.Logf("import and replay of %s (%s):\n%s", name, time.Since(began).Round(time.Second), printed.String())

	// The region and day with the most refused mutations of the replay
	// still to review; an open meeting of that day in that region.
	var busyRegion, busyDay string
	var busy int
	if err := srv.DB.Read.QueryRow(`SELECT COALESCE(a.region_code, ''), COALESCE(a.date, ''), count(*) FROM mutation_log m
		JOIN activities a ON a.id = m.payload ->> '$.activity_id'
		WHERE m.status = 'rejected' AND m.review_decision IS NULL GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT 1`).Scan(&busyRegion, &busyDay, &busy); err != nil {
		t.Logf("no refused mutation after the replay: %v", err)
	}
	var staffUser, activity, date, region, trainee string
	if err := srv.DB.Read.QueryRow(`SELECT u.username, a.id, a.date, e.region_code, t.id
		FROM users u JOIN establishments e ON e.code = u.establishment_code
		JOIN activities a ON a.establishment_code = u.establishment_code AND a.kind = 'meeting' AND a.status = 'open'
		JOIN trainees t ON t.establishment_code = u.establishment_code AND t.deleted = 0
		WHERE u.role = 'staff' AND u.disabled = 0
		AND NOT EXISTS (SELECT 1 FROM attendance x WHERE x.activity_id = a.id AND x.person_id = t.id)
		ORDER BY e.region_code = ? AND a.date = ? DESC, e.region_code = ? DESC, u.username, a.date, a.id, t.id LIMIT 1`, busyRegion, busyDay, busyRegion).Scan(&staffUser, &activity, &date, &region, &trainee); err != nil {
		t.Fatalf("a staff user with an open meeting: %v", err)
	}
	supervisor := "e2e.sup." + strings.ToLower(region)
	testenv.CreateUser(t, srv.DB, supervisor, "supervisor", "", region)
	testenv.SetPasswords(t, srv.DB, staffUser)
	day, err := time.Parse("2006-01-02", date)
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(day.Add(12 * time.Hour).Sub(clk.Now())) // the server on the meeting's day, noon UTC

	env := &testenv.Env{DB: srv.DB, URL: srv.URL}
	staff := env.Login(t, staffUser, "dev-e2e-inject")
	sup := env.Login(t, supervisor, "dev-e2e-sup")
	ph := synctest.NewPhone("dev-e2e-inject", clk.Now().Add(-10*time.Minute))
	var ms []protocol.Mutation
	for i := range 6 {
		typo := fmt.Sprintf("%s%02d", trainee[:len(trainee)-2], 90+i) // a roster matricule ends with a letter
		in := ph.CheckIn(activity, "trainee", typo)
		ms = append(ms, in, ph.Undo(activity, "trainee", typo, in.ID))
	}
	mistyped := ph.CheckIn(activity, "trainee", trainee[:len(trainee)-2]+"99")
	ms = append(ms, mistyped)
	push(t, staff, synctest.Body("dev-e2e-inject", clk.Now(), len(ms)+3, ms...))

	var page struct {
		Total  int            `json:"total"`
		Counts map[string]int `json:"counts"`
	}
	if st := sup.Do(t, "GET", "/api/v1/review/items?day="+date, nil, &page); st != 200 || page.Total < 13 {
		t.Fatalf("the region's queue of %s: %d, total %d, want at least the 13 items pushed", date, st, page.Total)
	}
	t.Logf("busiest region and day of the replay: %s %s (%d refused); chosen: %s %s, %d items to review %v", busyRegion, busyDay, busy, region, date, page.Total, page.Counts)
	before := bilanFigure(t, sup, "meeting_participations")

	ctx := consoleTab(t, srv, supervisor, 5*time.Minute)
	goTo(t, ctx, "#/review", "review")
	waitFor(t, ctx, "the queue", `!!document.querySelector('[data-test=review-total]')`, 20*time.Second)
	queueFilter(t, ctx, "day", date)
	waitFor(t, ctx, "the day's queue", fmt.Sprintf(`(document.querySelector('[data-test=review-total]') || {dataset: {}}).dataset.value === '%d' && document.querySelector('[data-test=filter-day]').value === %s`, page.Total, jsString(date)), 20*time.Second)
	consoleShots(t, ctx, "queue-"+name, `!!document.querySelector('[data-test=review-total]')`)

	// The mistyped matricule found by the search of the queue (at real
	// size it is not on the first page), attached by the trainee search.
	queueFilter(t, ctx, "q", trainee[:len(trainee)-2]+"99")
	card := fmt.Sprintf(`[data-test=item-quarantine][data-id=%q]`, mistyped.ID)
	waitFor(t, ctx, "the mistyped matricule", `!!document.querySelector(`+jsString(card+` [data-test=attach]`)+`)`, 20*time.Second)
	eval[bool](t, ctx, `(() => { const d = document.querySelector(`+jsString(card+` [data-test=attach]`)+`); d.open = true; d.querySelector('[data-test=attach-search]').value = `+jsString(trainee)+`; return true; })()`)
	jsClick(t, ctx, card+` [data-test=attach-find]`)
	pick := fmt.Sprintf(`%s [data-test=attach-pick][data-id=%q]`, card, trainee)
	waitFor(t, ctx, "the trainee found", `!!document.querySelector(`+jsString(pick)+`)`, 10*time.Second)
	jsClick(t, ctx, pick)
	waitFor(t, ctx, "the attach done", `!!document.querySelector('[data-test=review-notice]') && !document.querySelector(`+jsString(card)+`)`, 10*time.Second)
	if got := bilanFigure(t, sup, "meeting_participations"); got != before+1 {
		t.Errorf("bilan after the attach: %d meeting participations, want %d", got, before+1)
	}

	queueFilter(t, ctx, "q", "")
	// Every kind of the day, one bulk decision each.
	if st := sup.Do(t, "GET", "/api/v1/review/items?day="+date, nil, &page); st != 200 {
		t.Fatal(st)
	}
	for kind, n := range page.Counts {
		queueFilter(t, ctx, "kind", kind)
		queueBulk(t, ctx, "dismiss", "journée revue par le superviseur", n)
	}
	if st := sup.Do(t, "GET", "/api/v1/review/items?day="+date, nil, &page); st != 200 || page.Total != 0 {
		t.Errorf("the region's queue of %s after the day's end: total %d %v, want 0", date, page.Total, page.Counts)
	}

	// Devices: "pending" lists exactly the phones the server says hold something.
	var devices struct {
		Devices []struct {
			ID        string   `json:"device_id"`
			Attention []string `json:"attention"`
		} `json:"devices"`
	}
	if st := sup.Do(t, "GET", "/api/v1/review/devices?sort=attention", nil, &devices); st != 200 {
		t.Fatal(st)
	}
	var want []string
	for _, d := range devices.Devices {
		if slices.Contains(d.Attention, "pending") {
			want = append(want, d.ID)
		}
	}
	if !slices.Contains(want, "dev-e2e-inject") {
		t.Errorf("the server does not say dev-e2e-inject holds something: %v", want)
	}
	goTo(t, ctx, "#/devices", "devices")
	eval[bool](t, ctx, `(() => { const s = document.querySelector('[data-test=device-show]'); s.value = 'pending'; s.dispatchEvent(new Event('change')); return true; })()`)
	waitFor(t, ctx, "the pending phones", `!!document.querySelector('[data-test=device-count][data-show=pending]')`, 20*time.Second)
	shown := eval[[]string](t, ctx, `[...document.querySelectorAll('[data-test=device]')].map((d) => d.dataset.id)`)
	slices.Sort(shown)
	slices.Sort(want)
	if !slices.Equal(shown, want) {
		t.Errorf("phones with something pending: %v, want %v", shown, want)
	}
	consoleShots(t, ctx, "devices-"+name, `!!document.querySelector('[data-test=device-summary]')`)
}
