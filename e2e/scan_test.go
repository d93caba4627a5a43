package e2e_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// The scanning tests run the app with no native BarcodeDetector (Debian's
// Chromium has none on Linux, and the tests delete it before the app
// loads): the vendored polyfill reads the QR codes. The camera is
// Chromium's fake device playing a Y4M video that the test makes from the
// badges the app itself prints (GET /api/v1/exports/badges.pdf, rendered
// by poppler's pdftoppm).

// newCameraBrowser starts a headless Chromium whose camera plays video
// (its own allocator: the fake-device flags are per browser process).
func newCameraBrowser(t *testing.T, video string) context.Context {
	t.Helper()
	b, _ := newBrowserAt(t, filepath.Join(t.TempDir(), "profile"),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-video-capture", video),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"))
	return b
}

// scanSetup starts the server with n trainees, exports the badges, makes
// the video of shots(ids, qrs), and opens the app logged in as s.staff
// at MTG-0001, with window.BarcodeDetector deleted before any script
// and a log of the scanner's results in window.scanLog.
func scanSetup(t *testing.T, n int, shots func(ids []string, qrs map[string]*image.Gray) []shot, timeout time.Duration) (*server, context.Context, []string) {
	t.Helper()
	chromium(t)
	srv := newServer(t, serverOptions{})
	newFixture(n).seed(t, srv.DB)
	ids, qrs := badgeQRs(t, srv)
	video := filepath.Join(t.TempDir(), "badges.y4m")
	writeY4M(t, video, 320, 240, 10, 200, shots(ids, qrs))
	ctx, cancel := newTab(t, newCameraBrowser(t, video), timeout)
	t.Cleanup(cancel)
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `delete window.BarcodeDetector; delete Window.prototype.BarcodeDetector;
window.scanLog = [];
new MutationObserver(() => {
  const r = document.querySelector('[data-test=scan-confirmation]');
  if (r && !r.hidden && r.dataset.seq && r.dataset.seq !== window.scanLastSeq) {
    window.scanLastSeq = r.dataset.seq;
    window.scanLog.push({ state: r.dataset.state, name: (r.querySelector('.scan-name') || {}).textContent || '' });
  }
}).observe(document, { subtree: true, childList: true, attributes: true });`}); err != nil {
		t.Fatal(err)
	}
	loginAndDownload(t, ctx, srv)
	if eval[bool](t, ctx, `'BarcodeDetector' in window`) {
		t.Fatal("the native BarcodeDetector is still there: the test would not exercise the polyfill")
	}
	eval[bool](t, ctx, `(location.hash = '#/activity/MTG-0001', true)`)
	waitFor(t, ctx, "the activity screen", `!!document.querySelector('[data-test=scan]')`, 10*time.Second)
	return srv, ctx, ids
}

// checkins returns how many check-ins the server holds at MTG-0001, and
// for how many distinct trainees.
func checkins(t *testing.T, srv *server) (n, distinct int) {
	t.Helper()
	return sqlValue[int](t, srv, `SELECT count(*) FROM checkins WHERE activity_id = 'MTG-0001'`),
		sqlValue[int](t, srv, `SELECT count(DISTINCT person_id) FROM checkins WHERE activity_id = 'MTG-0001'`)
}

// TestScanWithoutBarcodeDetector: the polyfill is cached by the service
// worker while online; then, the server stopped and the page reloaded
// offline, a tap on "Scanner un badge" with the badge of one trainee
// before the camera: the polyfill reads it, the trainee is confirmed by
// name and recorded (the screen's recent list, then the server after it
// comes back). The scanner open is screenshot in French and Arabic
// (where the badge, still in view, is "déjà pointé") and checked by
// axe-core.
func TestScanWithoutBarcodeDetector(t *testing.T) {
	const who = "Benaïssa Salma"
	srv, ctx, _ := scanSetup(t, 6, func(ids []string, qrs map[string]*image.Gray) []shot {
		return []shot{{nil, 500 * time.Millisecond}, {qrs[traineeBenaissa], 4 * time.Second}}
	}, 3*time.Minute)
	shots := screenshotDir(t)
	waitFor(t, ctx, "the polyfill in the service worker's cache", `caches.keys().then((ks) => ks.find((k) => k.startsWith('prodays-lazy-')))
		.then((k) => k && caches.open(k).then((c) => c.match('/vendor/barcode-detector/zxing_reader.wasm')).then((r) => !!r))`, 30*time.Second)

	srv.stop()
	if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the activity screen offline", `document.documentElement.dataset.ready === '1' && !!document.querySelector('[data-test=scan]')`, 30*time.Second)
	click(t, ctx, "[data-test=scan]")
	waitFor(t, ctx, "the scanner", `!!document.querySelector('dialog[open][data-test=scanner]')`, 5*time.Second)
	waitFor(t, ctx, "the confirmation of "+who,
		`window.scanLog.some((e) => e.state === 'ok' && e.name === `+jsString(who)+`)`, 60*time.Second)
	if got := text(t, ctx, "[data-test=scanner] [data-test=scan-confirmation] .scan-name"); got != who {
		t.Errorf("confirmation shows %q, want %q", got, who)
	}
	if !eval[bool](t, ctx, `!!document.querySelector('dialog[open][data-test=scanner]')`) {
		t.Error("the scanner closed after a badge: it must stay open")
	}
	if tone := eval[string](t, ctx, `document.querySelector('[data-test=scanner]').dataset.tone`); tone != "ok" && tone != "again" {
		t.Errorf("last sound %q, want ok (then again while the badge stays in view)", tone)
	}
	screenshot(t, ctx, shots, "scan-fr")
	if v := runAxe(t, ctx, axeSource(t)); len(v) > 0 {
		t.Errorf("axe-core, scanner open (fr): %+v", v)
	}
	// The decoder came from our own origin (here through the worker's
	// cache), never from a CDN.
	wasm := eval[[]string](t, ctx, `performance.getEntriesByType('resource').map((e) => e.name).filter((u) => u.includes('.wasm') || u.includes('barcode-detector'))`)
	if !slices.Contains(wasm, srv.URL+"/vendor/barcode-detector/zxing_reader.wasm") {
		t.Errorf("the polyfill's wasm was not fetched from %s: %v", srv.URL, wasm)
	}
	for _, u := range wasm {
		if !strings.HasPrefix(u, srv.URL+"/") {
			t.Errorf("fetched from elsewhere: %s", u)
		}
	}
	click(t, ctx, "[data-test=scan-close]")
	waitFor(t, ctx, "the scanner closed", `!document.querySelector('[data-test=scanner]')`, 5*time.Second)
	waitFor(t, ctx, who+" in the recent list", fmt.Sprintf(`!!document.querySelector('[data-test=recent] li[data-id=%q]')`, traineeBenaissa), 5*time.Second)

	chooseLang(t, ctx, "ar", `!!document.querySelector('[data-test=scan]')`)
	click(t, ctx, "[data-test=scan]")
	waitFor(t, ctx, "'déjà pointé' in Arabic", `window.scanLog.some((e) => e.state === 'again')`, 60*time.Second)
	if got := text(t, ctx, "[data-test=scan-confirmation]"); !strings.Contains(got, "سبق تسجيل حضوره") {
		t.Errorf("Arabic confirmation %q", got)
	}
	screenshot(t, ctx, shots, "scan-ar")
	if v := runAxe(t, ctx, axeSource(t)); len(v) > 0 {
		t.Errorf("axe-core, scanner open (ar): %+v", v)
	}
	click(t, ctx, "[data-test=scan-close]")

	srv.restart()
	(&phone{name: "scan", ctx: ctx}).syncUntilEmpty(t)
	want := "MTG-0001|trainee|" + traineeBenaissa
	if got := srv.presences(t); len(got) != 1 || got[0] != want {
		t.Errorf("server presences %v, want [%s]", got, want)
	}
	if n, d := checkins(t, srv); n != 1 || d != 1 {
		t.Errorf("server check-ins %d for %d trainees, want 1 for 1", n, d)
	}
	if m := sqlValue[string](t, srv, `SELECT group_concat(method) FROM checkins`); m != "qr" {
		t.Errorf("check-in method %q, want qr", m)
	}
}

// TestScanDoorDrill: the scanner left open while 20 different badges pass
// before the camera, 2 s each, the first one shown twice in a row: 20
// check-ins, the repeat answered "déjà pointé", each trainee once on the
// server. Then a code that is not a badge buzzes, and a trainee outside
// the roster waits for a decision (skipped here: nothing recorded).
func TestScanDoorDrill(t *testing.T) {
	const badges = 20
	outsider := matricule(25, 105, 99999)
	var order []string
	srv, ctx, _ := scanSetup(t, 24, func(ids []string, qrs map[string]*image.Gray) []shot {
		if len(ids) < badges {
			t.Fatalf("%d badges printed, want at least %d", len(ids), badges)
		}
		order = ids[:badges]
		s := []shot{{nil, 500 * time.Millisecond}, {qrs[order[0]], 2 * time.Second}, {nil, 400 * time.Millisecond}, {qrs[order[0]], 2 * time.Second}}
		for _, id := range order[1:] {
			s = append(s, shot{nil, 400 * time.Millisecond}, shot{qrs[id], 2 * time.Second})
		}
		// Then a code that is not a badge, and the badge of a trainee
		// outside the phone's roster (a valid matricule nobody holds).
		return append(s, shot{nil, 400 * time.Millisecond}, shot{qrImage(t, "WIFI:S:prodays;T:WPA;P:x;;"), 2 * time.Second},
			shot{nil, 400 * time.Millisecond}, shot{qrImage(t, "PD1:T:"+outsider), 3 * time.Second}, shot{nil, 2 * time.Second})
	}, 5*time.Minute)
	start := time.Now()
	click(t, ctx, "[data-test=scan]")
	waitFor(t, ctx, "20 badges accepted", fmt.Sprintf(`window.scanLog.filter((e) => e.state === 'ok').length >= %d`, badges), 150*time.Second)
	t.Logf("20 badges accepted in %v", time.Since(start).Round(100*time.Millisecond))
	if !eval[bool](t, ctx, `!!document.querySelector('dialog[open][data-test=scanner]')`) {
		t.Fatal("the scanner is not open any more")
	}
	if n := eval[int](t, ctx, `window.scanLog.filter((e) => e.state === 'ok').length`); n != badges {
		t.Errorf("%d badges accepted, want %d: %v", n, badges, eval[any](t, ctx, `window.scanLog`))
	}
	if !eval[bool](t, ctx, `window.scanLog.some((e) => e.state === 'again')`) {
		t.Errorf("the badge shown twice was not answered 'déjà pointé': %v", eval[any](t, ctx, `window.scanLog`))
	}
	if got := text(t, ctx, "[data-test=scan-count]"); !regexp.MustCompile(`\b20$`).MatchString(got) {
		t.Errorf("scanner counter %q", got)
	}
	waitFor(t, ctx, "the code that is not a badge", `window.scanLog.some((e) => e.state === 'invalid')`, 20*time.Second)
	waitFor(t, ctx, "the decision on a trainee outside the roster", `!!document.querySelector('[data-test=scan-confirmation][data-state=unknown] [data-test=scan-skip]')`, 20*time.Second)
	if tone := eval[string](t, ctx, `document.querySelector('[data-test=scanner]').dataset.tone`); tone != "error" {
		t.Errorf("sound of a trainee outside the roster %q, want error", tone)
	}
	if got := text(t, ctx, "[data-test=scan-confirmation] .scan-name"); got != outsider {
		t.Errorf("decision shows %q, want %s", got, outsider)
	}
	click(t, ctx, "[data-test=scan-skip]")
	click(t, ctx, "[data-test=scan-close]")
	if got := text(t, ctx, "[data-test=count]"); !regexp.MustCompile(`\b20\b`).MatchString(got) {
		t.Errorf("activity count %q, want 20 present", got)
	}
	(&phone{name: "door", ctx: ctx}).syncUntilEmpty(t)
	if n, d := checkins(t, srv); n != badges || d != badges {
		t.Errorf("server check-ins %d for %d trainees, want %d for %d", n, d, badges, badges)
	}
	present := map[string]bool{}
	for _, p := range srv.presences(t) {
		present[p] = true
	}
	for _, id := range order {
		if !present["MTG-0001|trainee|"+id] {
			t.Errorf("%s is not present on the server", id)
		}
	}
}

// TestMeasureScanDecode logs the polyfill's decode time of one camera
// frame holding a badge (BarcodeDetector.detect on a canvas; the app
// passes the video element, which the polyfill draws to a canvas first),
// at two frame sizes, without and with DevTools CPU throttling 4× (a
// low-end phone), in one browser: medians of 41 frames after a warm-up.
// It asserts that every frame is read right, never a timing.
func TestMeasureScanDecode(t *testing.T) {
	t.Logf("machine load at start: %s", loadavg())
	srv := newServer(t, serverOptions{})
	newFixture(4).seed(t, srv.DB)
	_, qrs := badgeQRs(t, srv)
	ctx, cancel := newTab(t, newBrowser(t), 3*time.Minute)
	defer cancel()
	openLogin(t, ctx, srv)
	const frames = 41
	for _, size := range []struct{ w, h, side int }{{320, 240, 200}, {640, 480, 300}} {
		luma := make([]byte, size.w*size.h)
		drawFrame(luma, size.w, size.h, size.side, qrs[traineeAit])
		for _, rate := range []float64{1, 4} {
			if _, err := chromedp.Call(ctx, emulation.SetCPUThrottlingRate, emulation.SetCPUThrottlingRateParams{Rate: rate}); err != nil {
				t.Fatal(err)
			}
			type result struct {
				MS []float64
				OK int
			}
			r := eval[result](t, ctx, fmt.Sprintf(`(async (b64, w, h, n, want) => {
  delete window.BarcodeDetector;
  const BD = await (await import('/js/scanner.js')).detectorClass();
  const luma = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const c = document.createElement('canvas');
  c.width = w; c.height = h;
  const g = c.getContext('2d');
  const img = g.createImageData(w, h);
  for (let i = 0; i < luma.length; i++) img.data.set([luma[i], luma[i], luma[i], 255], 4 * i);
  g.putImageData(img, 0, 0);
  const d = new BD({ formats: ['qr_code'] });
  await d.detect(c);
  const ms = []; let ok = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const found = await d.detect(c);
    ms.push(performance.now() - t0);
    if (found.length === 1 && found[0].rawValue === want) ok++;
  }
  return { MS: ms, OK: ok };
})(%q, %d, %d, %d, %q)`, base64.StdEncoding.EncodeToString(luma), size.w, size.h, frames, "PD1:T:"+traineeAit))
			if r.OK != frames {
				t.Errorf("%d×%d: %d of %d frames read as the badge", size.w, size.h, r.OK, frames)
			}
			slices.Sort(r.MS)
			t.Logf("QR decode (polyfill, ZXing-C++ wasm), %d×%d frame, CPU throttling %gx: median %.1f ms/frame (min %.1f, max %.1f, %d frames)",
				size.w, size.h, rate, r.MS[len(r.MS)/2], r.MS[0], r.MS[len(r.MS)-1], len(r.MS))
		}
	}
	t.Logf("machine load at end: %s", loadavg())
}
