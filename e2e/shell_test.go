package e2e_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestShellWorksOffline loads the app at 360×740, waits for the service
// worker to install and control the page, stops the server, and reloads:
// the shell must come from the cache.
func TestShellWorksOffline(t *testing.T) {
	srv, ctx := openApp(t, 0, serverOptions{}, 60*time.Second)

	openLogin(t, ctx, srv)
	if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 360 {
		t.Errorf("page is %d px wide at a 360 px viewport: it scrolls sideways", w)
	}
	waitFor(t, ctx, "the service worker to control the page", `!!navigator.serviceWorker.controller`, 20*time.Second)
	cached := eval[int](t, ctx, `caches.keys().then(ks => caches.open(ks.find(k => k.startsWith('prodays-shell-')))).then(c => c.keys()).then(r => r.length)`)
	if cached < 20 {
		t.Fatalf("shell cache holds %d files", cached)
	}

	srv.stop()
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the shell from the cache", `document.documentElement.dataset.ready === '1' && !!document.querySelector('[data-test=login-form]')`, 20*time.Second)
	if got := eval[string](t, ctx, `document.querySelector('label[for=username]').textContent`); got != "Identifiant" {
		t.Errorf("login label: got %q, want Identifiant (French by default)", got)
	}
	// An unknown route is a navigation too: answered with the shell.
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/somewhere/else")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the shell for another path", `document.documentElement.dataset.ready === '1'`, 20*time.Second)
}

// TestTouchTargets checks, on the login screen and the status bar, that
// every button, link, input and select is at least 48 px high.
func TestTouchTargets(t *testing.T) {
	srv, ctx := openApp(t, 0, serverOptions{}, 60*time.Second)
	openLogin(t, ctx, srv)
	small := eval[[]string](t, ctx, `[...document.querySelectorAll('button, a, input, select')]
		.filter((e) => e.offsetParent !== null && e.getBoundingClientRect().height < 48)
		.map((e) => e.outerHTML.slice(0, 80))`)
	for _, e := range small {
		t.Errorf("touch target under 48 px: %s", e)
	}
}
