package e2e_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"prodays/api"
	"prodays/internal/testenv"
	"prodays/webapp"
)

// TestMeasure logs the PWA's figures, never asserting timings (they depend
// on the machine): the shell's gzip size, the download of 9,000 trainees,
// the cost of a keystroke in the search box (search and rendering of the
// results) and the time from a tap to the check-in persisted in the
// outbox.
func TestMeasure(t *testing.T) {
	sh, err := api.LoadShell(webapp.FS())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("app shell: %d precached files, %.1f KB gzip in total (target < 100 KB)", len(sh.Precache), float64(sh.GzipSize())/1024)

	browser := newBrowser(t)
	f := newFixture(9000)
	srv := startServer(t, filepath.Join(t.TempDir(), "prodays.db"), "127.0.0.1:0", serverOptions{})
	f.seed(t, srv.DB)
	ctx, cancel := newTab(t, browser, 3*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the login form", `!!document.querySelector('[data-test=login-form]')`, 20*time.Second)
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#username"), "s.staff"),
		chromedp.SendKeys(chromedp.CSS("#password"), testenv.Password),
		chromedp.Click(chromedp.CSS("[data-test=login-form] button[type=submit]"))); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	waitFor(t, ctx, "the download", `!!document.querySelector('[data-test=ready]')`, 2*time.Minute)
	t.Logf("login to ready, 9,000 trainees in pages of 1,000: %s", time.Since(start).Round(10*time.Millisecond))
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/#/activity/MTG-0001")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the activity screen", `!!document.querySelector('#q')`, 20*time.Second)
	// Let the start-up sync (push, pull, reload of the roster) finish first.
	waitFor(t, ctx, "the first sync", `document.querySelector('[data-test=sync-now]')?.getAttribute('aria-busy') === 'false'`, time.Minute)
	time.Sleep(time.Second)

	keystroke := eval[string](t, ctx, `(() => {
		const input = document.querySelector('#q');
		const times = [];
		const dom = [];
		for (const word of ['benaissa', 'ait baha', 'tahiri y', 'f2501050', 'ouazzani', 'الإدريسي']) {
			for (let i = 1; i <= word.length; i++) {
				input.value = word.slice(0, i);
				const t0 = performance.now();
				input.dispatchEvent(new Event('input'));
				const t1 = performance.now();
				void document.body.offsetHeight; // layout included
				times.push(performance.now() - t0);
				dom.push(t1 - t0);
			}
		}
		times.sort((a, b) => a - b);
		const q = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))].toFixed(2);
		dom.sort((a, b) => a - b);
		return 'median ' + q(0.5) + ' ms, p95 ' + q(0.95) + ' ms, max ' + times[times.length - 1].toFixed(2) + ' ms over ' + times.length +
			' keystrokes (before layout: median ' + dom[dom.length >> 1].toFixed(2) + ' ms)';
	})()`)
	t.Logf("search keystroke over 9,000 trainees (search + results rendered + layout): %s (target < 16 ms)", keystroke)

	split := eval[string](t, ctx, `(async () => {
		const s = await import('/js/search.js');
		const roster = await import('/js/roster.js');
		const idx = roster.data.traineeIndex;
		const times = [];
		for (const word of ['benaissa', 'ait baha', 'tahiri y', 'f2501050', 'ouazzani', 'الإدريسي']) {
			for (let i = 1; i <= word.length; i++) {
				const t0 = performance.now();
				s.search(idx, word.slice(0, i), 20);
				times.push(performance.now() - t0);
			}
		}
		times.sort((a, b) => a - b);
		return 'median ' + times[times.length >> 1].toFixed(2) + ' ms, max ' + times[times.length - 1].toFixed(2) + ' ms';
	})()`)
	t.Logf("search alone over 9,000 trainees: %s", split)

	floor := eval[string](t, ctx, `(async () => {
		const db = await import('/js/db.js');
		const times = [];
		for (let i = 0; i < 60; i++) {
			const t0 = performance.now();
			await db.tx(['meta'], 'readwrite', (t) => { t.objectStore('meta').put(i, 'measure'); }, 'strict');
			times.push(performance.now() - t0);
		}
		times.sort((a, b) => a - b);
		return 'median ' + times[times.length >> 1].toFixed(2) + ' ms';
	})()`)
	t.Logf("floor: a bare one-put IndexedDB transaction, durability strict: %s", floor)
	record := eval[string](t, ctx, `(async () => {
		const outbox = await import('/js/outbox.js');
		const times = [];
		for (let i = 0; i < 60; i++) {
			const t0 = performance.now();
			await outbox.record('attendance.check_in', { activity_id: 'VIS-0001', person: { kind: 'trainee', id: 'F25010500001N' }, method: 'search' });
			times.push(performance.now() - t0);
		}
		times.sort((a, b) => a - b);
		return 'median ' + times[times.length >> 1].toFixed(2) + ' ms, max ' + times[times.length - 1].toFixed(2) + ' ms';
	})()`)
	t.Logf("outbox.record alone (seq read + mutation + journal, one strict transaction): %s", record)
	// Taps as people make them, 300 ms apart: each tap also starts a push
	// in the background, which must not delay the next tap.
	tap := eval[string](t, ctx, `(async () => {
		const actions = await import('/js/actions.js');
		const roster = await import('/js/roster.js');
		const ids = roster.data.traineeIndex.slice(100, 140).map((e) => e.id);
		const times = [];
		for (const id of ids) {
			const t0 = performance.now();
			await actions.checkIn('VIS-0001', { kind: 'trainee', id }, 'search');
			times.push(performance.now() - t0);
			await new Promise((r) => setTimeout(r, 300));
		}
		times.sort((a, b) => a - b);
		return 'median ' + times[times.length >> 1].toFixed(2) + ' ms, max ' + times[times.length - 1].toFixed(2) + ' ms over ' + times.length + ' check-ins';
	})()`)
	t.Logf("tap to outbox persisted (checkIn, taps 300 ms apart, durability strict): %s (target < 16 ms)", tap)
}
