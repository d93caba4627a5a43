package e2e_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// loginAndDownload logs s.staff in through the UI and waits for the
// roster, then for the home screen and the service worker.
func loginAndDownload(t *testing.T, ctx context.Context, srv *server) {
	t.Helper()
	loginAndDownloadAs(t, ctx, srv, "s.staff")
}

// loginAndDownloadAs is loginAndDownload for another user.
func loginAndDownloadAs(t *testing.T, ctx context.Context, srv *server, username string) {
	t.Helper()
	formLogin(t, ctx, srv, username)
	waitFor(t, ctx, "the download", `!!document.querySelector('[data-test=ready]')`, time.Minute)
	jsClick(t, ctx, "[data-test=continue]")
	waitFor(t, ctx, "home", `document.querySelectorAll('[data-test=activity]').length > 0`, 10*time.Second)
	waitFor(t, ctx, "the service worker", `!!navigator.serviceWorker.controller`, 20*time.Second)
}

func click(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		t.Fatalf("click %s: %v", sel, err)
	}
}

// jsClick clicks through the DOM: for elements that the status bar
// re-renders at any moment.
func jsClick(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	if !eval[bool](t, ctx, `(() => { const e = document.querySelector(`+jsString(sel)+`); if (e) e.click(); return !!e; })()`) {
		t.Fatalf("click %s: not found", sel)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return eval[string](t, ctx, `(document.querySelector(`+jsString(sel)+`) || {}).textContent || ''`)
}

// confirmLogoutKeepsAction confirms the open logout warning of a phone
// with one action pending: the login screen comes back and the outbox
// still holds the action (kept until pushed).
func confirmLogoutKeepsAction(t *testing.T, ctx context.Context) {
	t.Helper()
	click(t, ctx, "[data-test=logout-confirm]")
	waitFor(t, ctx, "the login screen", `!!document.querySelector('[data-test=login-form]')`, 10*time.Second)
	if n := eval[int](t, ctx, `import('/js/outbox.js').then(o => o.size())`); n != 1 {
		t.Errorf("outbox after logout: %d, want 1 (kept until pushed)", n)
	}
}

func jsString(s string) string { return mustJSON(s) }

// TestSyncEdgeCases, against the real server with faults in front of it:
// a check-in the engine refuses (the trainee was removed from the server)
// lands in the refused list with its reason after a 429 with Retry-After;
// a 409 resync pulls a fresh snapshot; logout is refused while the outbox
// is not saved; a new version of the app waits for the user's click.
func TestSyncEdgeCases(t *testing.T) {
	srv, ctx := openApp(t, 50, serverOptions{}, 3*time.Minute)
	loginAndDownload(t, ctx, srv)
	waitFor(t, ctx, "sync idle", `document.querySelector('[data-test=sync-now]')?.getAttribute('aria-busy') === 'false'`, 20*time.Second)

	t.Run("refused after 429", func(t *testing.T) {
		// The phone still lists Benaïssa; the server no longer knows her.
		if _, err := srv.DB.Write.Exec(`DELETE FROM trainees WHERE id = ?`, traineeBenaissa); err != nil {
			t.Fatal(err)
		}
		srv.faults.set(func(f *faults) { f.tooMany = 1 })
		click(t, ctx, `[data-test=activity][data-id="VIS-0001"]`)
		waitFor(t, ctx, "the activity", `!!document.querySelector('#q')`, 5*time.Second)
		if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#q"), "benaissa")); err != nil {
			t.Fatal(err)
		}
		click(t, ctx, `[data-test=results] li[data-id="`+traineeBenaissa+`"] [data-test=check-in]`)
		waitFor(t, ctx, "the refused count", `(document.querySelector('[data-test=issues]') || {}).textContent === '1 refusé'`, 30*time.Second)
		if n := read(srv.faults, func(f *faults) int { return f.tooMany }); n != 0 {
			t.Error("the 429 was not met")
		}
		waitFor(t, ctx, "an empty outbox", `document.querySelector('[data-test=pending]').dataset.count === '0'`, 5*time.Second)
		jsClick(t, ctx, "[data-test=issues]")
		// The reason is the code's French text (reasons.js), not the server's English message.
		waitFor(t, ctx, "the refused list", `document.querySelector('main').textContent.includes('Stagiaire inconnu : aucun stagiaire avec ce matricule.')`, 5*time.Second)
		if got := text(t, ctx, "main"); !strings.Contains(got, "Benaïssa Salma · VIS-0001") {
			t.Errorf("refused list: %q", got)
		}
		var status, code string
		if err := srv.DB.Read.QueryRow(`SELECT status, code FROM mutations WHERE type = 'attendance.check_in'`).Scan(&status, &code); err != nil || status != "rejected" || code != "unknown_trainee" {
			t.Errorf("server's record of the check-in: %s %s %v, want rejected unknown_trainee", status, code, err)
		}
	})

	t.Run("resync", func(t *testing.T) {
		// A trainee the server never sent, as if left from an old scope:
		// only a fresh snapshot, not an incremental pull, removes it.
		const stale = "F25010599999A"
		// (Written as the app writes trainees: with bumpTrainees, which
		// makes the packed search index stale.)
		eval[bool](t, ctx, `import('/js/db.js').then((db) => db.tx(['trainee', 'meta'], 'readwrite', async (t) => {
			t.objectStore('trainee').put({ id: '`+stale+`', sk: 'recrue nouvelle', data: { trainee_id: '`+stale+`', last_name: 'Recrue', first_name: 'Nouvelle', establishment_code: 'EFP0105' } });
			await db.bumpTrainees(t);
		})).then(() => import('/js/roster.js')).then((r) => r.reload()).then(() => true)`)
		if !eval[bool](t, ctx, `import('/js/roster.js').then(r => r.data.trainees.has('`+stale+`'))`) {
			t.Fatal("the stale trainee was not planted")
		}
		fresh := read(srv.faults, func(f *faults) int { return f.freshPulls })
		srv.faults.set(func(f *faults) { f.resyncNext = true })
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/#/activity/MTG-0001")); err != nil {
			t.Fatal(err)
		}
		waitFor(t, ctx, "the activity", `!!document.querySelector('#q')`, 10*time.Second)
		waitFor(t, ctx, "sync idle", `document.querySelector('[data-test=sync-now]')?.getAttribute('aria-busy') === 'false'`, 10*time.Second)
		jsClick(t, ctx, "[data-test=sync-now]")
		waitFor(t, ctx, "the stale trainee gone", `import('/js/roster.js').then(r => !r.data.trainees.has('`+stale+`'))`, 20*time.Second)
		if read(srv.faults, func(f *faults) bool { return f.resyncNext }) {
			t.Error("the 409 resync was not met")
		}
		if got := read(srv.faults, func(f *faults) int { return f.freshPulls }); got != fresh+1 {
			t.Errorf("snapshots pulled after the 409: %d, want 1", got-fresh)
		}
		// Benaïssa, deleted from the server in the subtest above, is gone
		// too: the snapshot lists the 49 trainees left.
		if n := eval[int](t, ctx, `import('/js/roster.js').then(r => r.data.trainees.size)`); n != 49 {
			t.Errorf("trainees after resync: %d, want 49", n)
		}
	})

	t.Run("logout refused until saved", func(t *testing.T) {
		srv.faults.set(func(f *faults) { f.unavailable = true })
		defer srv.faults.set(func(f *faults) { f.unavailable = false })
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/#/activity/MTG-0001")); err != nil {
			t.Fatal(err)
		}
		waitFor(t, ctx, "the activity", `!!document.querySelector('#q')`, 10*time.Second)
		eval[bool](t, ctx, `(() => { document.querySelector('#q').value = ''; return true; })()`)
		if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#q"), "ait baha")); err != nil {
			t.Fatal(err)
		}
		click(t, ctx, `[data-test=results] li[data-id="`+traineeAit+`"] [data-test=check-in]`)
		waitFor(t, ctx, "one pending", `document.querySelector('[data-test=pending]').dataset.count === '1'`, 10*time.Second)
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/#/")); err != nil {
			t.Fatal(err)
		}
		waitFor(t, ctx, "home", `!!document.querySelector('[data-test=logout]')`, 10*time.Second)
		click(t, ctx, "[data-test=logout]")
		waitFor(t, ctx, "the refusal", `document.querySelector('main').textContent.includes('Déconnexion impossible : 1 action')`, 5*time.Second)
		body := eval[string](t, ctx, `import('/js/outbox.js').then(o => o.exportBody('x')).then(b => JSON.stringify(b))`)
		for _, want := range []string{`"device_id":"x"`, `"client_time":`, `"app_version":"1.0.0"`, `"outbox_size":1`, `"type":"attendance.check_in"`, traineeAit} {
			if !strings.Contains(body, want) {
				t.Errorf("saved file lacks %s: %s", want, body)
			}
		}
		click(t, ctx, "[data-test=save-file]")
		waitFor(t, ctx, "the save", `document.getElementById('live').textContent.includes('1 action enregistrée')`, 5*time.Second)
		click(t, ctx, "[data-test=logout]")
		// The server is unreachable: first the warning that logging in again needs the network.
		waitFor(t, ctx, "the warning", `!!document.querySelector('dialog[data-test=logout-dialog][open]')`, 5*time.Second)
		confirmLogoutKeepsAction(t, ctx)
	})

	t.Run("new version waits for the click", func(t *testing.T) {
		srv.swRevision.Store(1)
		eval[bool](t, ctx, `navigator.serviceWorker.getRegistration().then(r => r.update()).then(() => true)`)
		waitFor(t, ctx, "the new-version banner", `!!document.querySelector('[data-test=reload]')`, 30*time.Second)
		if got := text(t, ctx, "#update"); !strings.Contains(got, "Une nouvelle version est prête") {
			t.Errorf("banner: %q", got)
		}
		eval[bool](t, ctx, `(window.__sameDocument = true)`)
		click(t, ctx, "[data-test=reload]")
		// The page reloads under the poll: retry through the navigation.
		deadline := time.Now().Add(20 * time.Second)
		for {
			ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!window.__sameDocument && document.documentElement.dataset.ready === '1'`))
			if err == nil && ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no reload after the click: %v", err)
			}
			time.Sleep(200 * time.Millisecond)
		}
		waitFor(t, ctx, "no waiting worker", `navigator.serviceWorker.getRegistration().then(r => !r.waiting)`, 10*time.Second)
	})
}
