package e2e_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestOfflineFlowEndToEnd runs the whole offline scenario against the real
// server (auth, sync engine, PWA, SQLite file), writes the screenshots and
// asserts the server's attendance table and the size of the pushes.
func TestOfflineFlowEndToEnd(t *testing.T) {
	browser := newBrowser(t)
	f := newFixture(300)
	srv := newServer(t, serverOptions{})
	f.seed(t, srv.DB)
	offlineScenario(t, browser, srv, screenshotDir(t), func() []string { return srv.presences(t) })
	pushes, batches := read(srv.faults, func(f *faults) int { return f.pushes }), read(srv.faults, func(f *faults) []int { return f.batches })
	if pushes == 0 {
		t.Fatal("no push reached the server")
	}
	for _, n := range batches {
		if n > 500 {
			t.Errorf("a push carried %d mutations, over 500", n)
		}
	}
	checkPushShape(t, read(srv.faults, func(f *faults) [][]byte { return f.bodies }))
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// offlineScenario: log in through the UI, download the scope, stop the
// server, reload (from the service worker), check in by search and by
// matricule, undo one, check in a speaker, register a walk-in, close and
// reopen the tab, restart the server on the same file and address, and
// wait for the outbox to drain without a reload. presences reads the
// server's present (activity|kind|id) after that.
func offlineScenario(t *testing.T, browser context.Context, srv *server, shots string, presences func() []string) {
	ctx, cancel := newTab(t, browser, 3*time.Minute)
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
			t.Fatalf("%v\npage text:\n%s", err, body)
		}
	}
	shot := func(name string) {
		if shots != "" {
			screenshot(t, ctx, shots, name)
		}
	}
	setLang := func(l string) {
		chooseLang(t, ctx, l, "")
	}
	clear := func(sel string) {
		t.Helper()
		eval[bool](t, ctx, fmt.Sprintf(`(() => { const i = document.querySelector(%q); i.value = ''; i.dispatchEvent(new Event('input')); return true; })()`, sel))
	}

	// Log in and download.
	do(chromedp.Navigate(srv.URL + "/"))
	waitFor(t, ctx, "the login form", `!!document.querySelector('[data-test=login-form]')`, 20*time.Second)
	shot("fr-login")
	setLang("ar")
	if got := eval[string](t, ctx, `document.querySelector('label[for=username]').textContent`); got != "اسم المستخدم" {
		t.Errorf("Arabic login label: %q", got)
	}
	shot("ar-login")
	setLang("fr")
	submitLogin(t, ctx, "s.staff")
	waitFor(t, ctx, "the download", `!!document.querySelector('[data-test=ready]')`, 60*time.Second)
	ready := eval[string](t, ctx, `document.querySelector('[data-test=ready]').textContent`)
	t.Logf("after download: %s", ready)
	if !strings.Contains(ready, "Prêt à travailler hors ligne") || !strings.Contains(ready, "300 stagiaires") {
		t.Errorf("ready message: %q", ready)
	}
	do(chromedp.Click(chromedp.CSS("[data-test=continue]")))
	waitFor(t, ctx, "today's activities", `document.querySelectorAll('[data-test=activity]').length === 2`, 10*time.Second)
	waitFor(t, ctx, "the service worker", `!!navigator.serviceWorker.controller`, 20*time.Second)
	shot("fr-home")

	// Offline from here.
	srv.stop()
	do(chromedp.Reload())
	waitFor(t, ctx, "the home screen from the cache", `document.querySelectorAll('[data-test=activity]').length === 2`, 20*time.Second)
	waitFor(t, ctx, "the server shown unreachable", `document.querySelector('[data-test=net]')?.dataset.state === 'unreachable' && document.querySelector('[data-test=net-detail]')?.textContent === 'Serveur injoignable'`, 20*time.Second)
	do(chromedp.Click(chromedp.CSS(`[data-test=activity][data-id="MTG-0001"]`)))
	waitFor(t, ctx, "the activity screen", `!!document.querySelector('#q')`, 10*time.Second)

	checkInBySearch := func(query, id, name string) {
		t.Helper()
		clear("#q")
		do(chromedp.SendKeys(chromedp.CSS("#q"), query))
		sel := fmt.Sprintf(`[data-test=results] li[data-id=%q] [data-test=check-in]`, id)
		waitFor(t, ctx, "result "+name+" for "+query, fmt.Sprintf(`!!document.querySelector(%q)`, sel), 5*time.Second)
		do(chromedp.Click(chromedp.CSS(sel)))
		waitFor(t, ctx, "confirmation of "+name, fmt.Sprintf(`document.getElementById('live').textContent.includes(%q)`, name), 5*time.Second)
	}
	checkInBySearch("ait", traineeAit, "Aït Baha Marouane")
	// Keyboard: Enter checks in the only match.
	clear("#q")
	do(chromedp.SendKeys(chromedp.CSS("#q"), "benaissa"))
	waitFor(t, ctx, "one result for benaissa", `document.querySelectorAll('[data-test=results] [data-test=check-in]').length === 1`, 5*time.Second)
	do(chromedp.SendKeys(chromedp.CSS("#q"), "\r"))
	waitFor(t, ctx, "confirmation of Benaïssa Salma", `document.getElementById('live').textContent.includes('Benaïssa Salma')`, 5*time.Second)

	// By matricule, with confirmation.
	do(chromedp.SendKeys(chromedp.CSS("[data-test=matricule]"), strings.ToLower(traineeByID)),
		chromedp.Click(chromedp.CSS("[data-test=matricule-form] button[type=submit]")))
	waitFor(t, ctx, "the confirmation dialog", `document.querySelector('dialog').open && document.querySelector('dialog').textContent.includes('El Idrissi Khadija')`, 5*time.Second)
	do(chromedp.Click(chromedp.CSS("[data-test=confirm]")))
	waitFor(t, ctx, "confirmation by matricule", `document.getElementById('live').textContent.includes('El Idrissi Khadija')`, 5*time.Second)

	// Undo Benaïssa from the recent list.
	do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-test=recent] li[data-id=%q] [data-test=recent-undo]`, traineeBenaissa))))
	waitFor(t, ctx, "undo", `document.getElementById('live').textContent.includes('Présence annulée')`, 5*time.Second)

	// The announced speaker.
	do(chromedp.Click(chromedp.CSS("[data-test=tab-speakers]")))
	waitFor(t, ctx, "the speakers tab", `!!document.querySelector('[data-test=results] li[data-id="SPK-0001"] [data-test=check-in]')`, 5*time.Second)
	do(chromedp.Click(chromedp.CSS(`[data-test=results] li[data-id="SPK-0001"] [data-test=check-in]`)))
	waitFor(t, ctx, "speaker check-in", `document.getElementById('live').textContent.includes('Lachgar Omar')`, 5*time.Second)
	do(chromedp.Click(chromedp.CSS(`.tabs button[data-tab=trainee]`)))

	// A walk-in.
	do(chromedp.Click(chromedp.CSS("[data-test=walkin]")))
	waitFor(t, ctx, "the walk-in form", `!!document.querySelector('[data-test=walkin-form]')`, 5*time.Second)
	do(chromedp.SendKeys(chromedp.CSS("#w-last_name"), "Nouveau"),
		chromedp.SendKeys(chromedp.CSS("#w-first_name"), "Venu"),
		chromedp.Click(chromedp.CSS("[data-test=walkin-form] button[type=submit]")))
	waitFor(t, ctx, "walk-in check-in", `document.getElementById('live').textContent.includes('Nouveau Venu')`, 5*time.Second)

	waitFor(t, ctx, "7 actions pending (4 check-ins, 1 undo, 1 registration, 1 walk-in check-in)", `document.querySelector('[data-test=pending]').dataset.count === '7'`, 5*time.Second)
	count := eval[string](t, ctx, `document.querySelector('[data-test=count]').textContent`)
	if !strings.HasPrefix(count, "3 présents / 40 places") || !strings.Contains(count, "1 intervenant") {
		t.Errorf("count: %q", count)
	}
	clear("#q")
	do(chromedp.SendKeys(chromedp.CSS("#q"), "a"))
	shot("fr-activity")
	for _, e := range eval[[]string](t, ctx, `[...document.querySelectorAll('button, a, input, select')]
		.filter((e) => e.offsetParent !== null && e.getBoundingClientRect().height < 48)
		.map((e) => e.outerHTML.slice(0, 80))`) {
		t.Errorf("touch target under 48 px on the activity screen: %s", e)
	}
	if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 360 {
		t.Errorf("the activity screen is %d px wide at 360 px: it scrolls sideways", w)
	}
	setLang("ar")
	do(chromedp.SendKeys(chromedp.CSS("#q"), "الادريسي"))
	waitFor(t, ctx, "the Arabic name found without its hamza", fmt.Sprintf(`!!document.querySelector('[data-test=results] li[data-id=%q]')`, traineeArabic), 5*time.Second)
	shot("ar-activity")
	do(chromedp.Navigate(srv.URL + "/#/"))
	waitFor(t, ctx, "home in Arabic", `document.querySelectorAll('[data-test=activity]').length === 2`, 10*time.Second)
	shot("ar-home")
	setLang("fr")

	// Close the tab, open another one: still offline, the outbox is there.
	cancel()
	ctx, cancel = newTab(t, browser, 3*time.Minute)
	defer cancel()
	do(chromedp.Navigate(srv.URL + "/"))
	waitFor(t, ctx, "home after reopening", `document.querySelectorAll('[data-test=activity]').length === 2`, 20*time.Second)
	waitFor(t, ctx, "7 actions still pending after reopening", `document.querySelector('[data-test=pending]')?.dataset.count === '7'`, 5*time.Second)

	// The server comes back on the same address: the outbox drains by itself.
	srv.restart()
	start := time.Now()
	waitFor(t, ctx, "the outbox to drain", `document.querySelector('[data-test=pending]').dataset.count === '0'`, 90*time.Second)
	t.Logf("outbox drained %s after the server came back", time.Since(start).Round(100*time.Millisecond))
	if eval[int](t, ctx, `document.querySelectorAll('[data-test=issues]').length`) != 0 {
		t.Errorf("refused or flagged actions: %s", eval[string](t, ctx, `document.querySelector('[data-test=issues]').textContent`))
	}

	var got []string
	for _, p := range presences() {
		parts := strings.Split(p, "|")
		if uuidRE.MatchString(parts[2]) {
			parts[2] = "WALK-IN"
		}
		got = append(got, strings.Join(parts, "|"))
	}
	slices.Sort(got)
	want := []string{"MTG-0001|speaker|SPK-0001", "MTG-0001|trainee|" + traineeByID, "MTG-0001|trainee|" + traineeAit, "MTG-0001|trainee|WALK-IN"}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("server presences:\n got %v\nwant %v", got, want)
	}
}
