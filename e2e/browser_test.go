package e2e_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"prodays/internal/testenv"
)

// chromium returns the browser's path, or skips t (fails it when
// PRODAYS_REQUIRE_BROWSER=1).
func chromium(t *testing.T) string {
	t.Helper()
	path := os.Getenv("PRODAYS_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		msg := "headless Chromium not found at " + path + " (install Debian's chromium or set PRODAYS_CHROMIUM)"
		if os.Getenv("PRODAYS_REQUIRE_BROWSER") == "1" {
			t.Fatal(msg + "; PRODAYS_REQUIRE_BROWSER=1 makes this a failure")
		}
		t.Skip(msg)
	}
	return path
}

// newBrowser starts a headless Chromium with its own profile (so service
// workers and IndexedDB persist across tabs of this browser) and returns
// the context of a first tab, 360×740 like a low-end phone.
func newBrowser(t *testing.T) (browser context.Context) {
	t.Helper()
	b, _ := newBrowserAt(t, filepath.Join(t.TempDir(), "profile"))
	return b
}

// newBrowserAt is newBrowser with the profile in dir (a second browser on
// the same dir is the same phone after the app was closed), and extra
// flags for the process; close ends the browser process.
func newBrowserAt(t *testing.T, dir string, extra ...chromedp.ExecAllocatorOption) (browser context.Context, close func()) {
	t.Helper()
	path := chromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(dir),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("lang", "fr-FR"),
		chromedp.WindowSize(360, 740),
	}
	opts = append(opts, extra...)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelB := chromedp.NewContext(actx)
	close = func() {
		cancelB()
		cancelA()
	}
	t.Cleanup(close)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return bctx, close
}

// newTab opens a tab of browser with a deadline, emulating a 360×740 phone.
func newTab(t *testing.T, browser context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	t.Helper()
	tctx, cancel := chromedp.NewContext(browser)
	ctx, cancelT := context.WithTimeout(tctx, timeout)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 740, chromedp.EmulateScale(1), chromedp.EmulateMobile)); err != nil {
		t.Fatalf("viewport: %v", err)
	}
	return ctx, func() { cancelT(); cancel() }
}

// screenshotDir is where screenshots go: $PRODAYS_SCREENSHOTS or a
// temporary folder.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("PRODAYS_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// screenshot saves the page, full height, as name.png.
func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	// Quality 100 gives a PNG (below, a JPEG).
	time.Sleep(150 * time.Millisecond)
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	writeShot(t, dir, name, buf, err)
}

// writeShot saves the screenshot buf (taken with error err) as name.png.
func writeShot(t *testing.T, dir, name string, buf []byte, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", p)
}

// eval runs a JavaScript expression in the page (awaiting a promise) and
// returns its value.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("eval %s: %v", expr, err)
	}
	return v
}

// openApp starts a server on a fresh database, seeded with a fixture of n
// trainees when n > 0, and opens a tab of a new browser for timeout; the
// tab closes at the end of the test.
func openApp(t *testing.T, n int, opt serverOptions, timeout time.Duration) (*server, context.Context) {
	t.Helper()
	browser := newBrowser(t)
	srv := newServer(t, opt)
	if n > 0 {
		newFixture(n).seed(t, srv.DB)
	}
	ctx, cancel := newTab(t, browser, timeout)
	t.Cleanup(cancel)
	return srv, ctx
}

// openLogin opens the app and waits for its login form.
func openLogin(t *testing.T, ctx context.Context, srv *server) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the login form", `!!document.querySelector('[data-test=login-form]')`, 20*time.Second)
}

// formLogin opens the app and logs username in through its login form.
func formLogin(t *testing.T, ctx context.Context, srv *server, username string) {
	t.Helper()
	openLogin(t, ctx, srv)
	submitLogin(t, ctx, username)
}

// submitLogin fills the open login form with username and
// testenv.Password and submits it.
func submitLogin(t *testing.T, ctx context.Context, username string) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#username"), username),
		chromedp.SendKeys(chromedp.CSS("#password"), testenv.Password),
		chromedp.Click(chromedp.CSS("[data-test=login-form] button[type=submit]"))); err != nil {
		t.Fatal(err)
	}
}

// chooseLang picks language l in the app's selector and waits until the
// document has l's lang and dir and the app's data-ready marker is back
// (the messages are loaded and the screen re-rendered), and until the
// JavaScript predicate also, when not empty, is true.
func chooseLang(t *testing.T, ctx context.Context, l, also string) {
	t.Helper()
	eval[bool](t, ctx, fmt.Sprintf(`(() => { const s = document.getElementById('lang'); s.value = %q; s.dispatchEvent(new Event('change')); return true; })()`, l))
	dir := "ltr"
	if l == "ar" {
		dir = "rtl"
	}
	ready := fmt.Sprintf(`document.documentElement.lang === %q && document.documentElement.dir === %q && document.documentElement.dataset.ready === '1'`, l, dir)
	if also != "" {
		ready += " && " + also
	}
	waitFor(t, ctx, "language "+l, ready, 10*time.Second)
}

// waitFor polls a JavaScript predicate until it is true.
func waitFor(t *testing.T, ctx context.Context, what, predicate string, timeout time.Duration) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](predicate, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		var body string
		body, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
		t.Fatalf("waiting for %s (%s): %v\npage text:\n%s", what, predicate, err, body)
	}
}
