package e2e_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestTapUnderRerender (issue #5, the tap on "Pointer" that recorded
// nothing): a tap must record even when the screen changes between the
// finger going down and coming up. Two things changed under the finger:
//
//   - the status bar, above the screen, grew by a row while a background
//     sync ran ("Synchroniser" became "Synchronisation…", wider, one row more) or when the
//     pending count gained a digit, moving everything below it: the finger
//     came up on another element and no click happened;
//   - the result list, re-rendered after a push or a pull, replaced the
//     button the finger was on.
//
// The test checks that the status bar keeps its height in every state and
// language, then presses the mouse on "Pointer", makes both changes happen,
// releases it and expects the check-in.
func TestTapUnderRerender(t *testing.T) {
	srv, ctx := openApp(t, 300, serverOptions{}, 2*time.Minute)
	loginAndDownloadAs(t, ctx, srv, "s.staff")
	waitFor(t, ctx, "sync idle", `document.querySelector('[data-test=sync-now]')?.getAttribute('aria-busy') === 'false'`, 30*time.Second)
	srv.stop() // offline: pushes fail, the pending count only grows
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/#/activity/MTG-0001")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the activity screen", `document.documentElement.dataset.ready === '1' && !!document.querySelector('#q')`, 20*time.Second)

	// setStatus puts the sync state in the given shape and waits until
	// the bar shows it; it returns the bar's height.
	const setStatus = `async (running, unreachable, pending) => {
		const sync = await import('/js/sync.js');
		const outbox = await import('/js/outbox.js');
		while (await outbox.size() < pending) {
			await outbox.record('attendance.check_in', { activity_id: 'VIS-0001', person: { kind: 'trainee', id: 'F25010500001N' }, method: 'search' });
		}
		sync.state.running = running;
		sync.state.unreachable = unreachable;
		sync.events.dispatchEvent(new Event('change'));
		const bar = document.getElementById('status');
		for (let i = 0; i < 500; i++) {
			const b = bar.querySelector('[data-test=sync-now]');
			const p = bar.querySelector('[data-test=pending]');
			if (b && b.getAttribute('aria-busy') === String(running) && p && p.dataset.count === String(pending)) return bar.getBoundingClientRect().height;
			await new Promise((r) => setTimeout(r, 10));
		}
		throw new Error('the status bar did not show the state');
	}`
	// Let the start-up sync attempt end first.
	waitFor(t, ctx, "sync idle", `document.querySelector('[data-test=sync-now]')?.getAttribute('aria-busy') === 'false'`, 30*time.Second)
	first := map[string]float64{}
	for _, pending := range []int{0, 1, 9, 10, 99, 100} { // the count only grows
		for _, lang := range []string{"fr", "ar", "en"} {
			chooseLang(t, ctx, lang, "!!document.querySelector('#q')")
			for _, st := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
				h := eval[float64](t, ctx, fmt.Sprintf(`(%s)(%v, %v, %d)`, setStatus, st[0], st[1], pending))
				if first[lang] == 0 {
					first[lang] = h
				} else if h != first[lang] {
					t.Errorf("%s: the status bar is %.0f px high with %d pending (running %v, unreachable %v), %.0f px before: the screen moves under the finger",
						lang, h, pending, st[0], st[1], first[lang])
				}
			}
		}
	}
	t.Logf("status bar height (px) at 360 px, in every state: %v", first)
	chooseLang(t, ctx, "fr", "!!document.querySelector('#q')")
	eval[float64](t, ctx, fmt.Sprintf(`(%s)(false, true, 100)`, setStatus))
	if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); w > 360 {
		t.Errorf("page is %d px wide at a 360 px viewport", w)
	}

	// The finger goes down on "Pointer", the status bar shows a sync and a
	// push's results re-render the screen, the finger comes up.
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#q"), "benaissa")); err != nil {
		t.Fatal(err)
	}
	sel := fmt.Sprintf(`[data-test=results] li[data-id=%q] [data-test=check-in]`, traineeBenaissa)
	waitFor(t, ctx, "the result", fmt.Sprintf(`!!document.querySelector(%q)`, sel), 10*time.Second)
	xy := eval[[]float64](t, ctx, fmt.Sprintf(`(() => { const b = document.querySelector(%q); b.scrollIntoView({ block: 'center' }); const r = b.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()`, sel))
	if err := chromedp.Do(ctx, chromedp.MouseEvent(chromedp.MousePressed, xy[0], xy[1], chromedp.ButtonLeft, chromedp.ClickCount(1))); err != nil {
		t.Fatal(err)
	}
	eval[float64](t, ctx, fmt.Sprintf(`(%s)(true, true, 101)`, setStatus))
	eval[bool](t, ctx, `(async () => {
		const sync = await import('/js/sync.js');
		sync.events.dispatchEvent(new Event('pushed'));
		await new Promise((r) => setTimeout(r, 300));
		return true;
	})()`)
	if err := chromedp.Do(ctx, chromedp.MouseEvent(chromedp.MouseReleased, xy[0], xy[1], chromedp.ButtonLeft, chromedp.ClickCount(1))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the check-in of the tap", fmt.Sprintf(`!!document.querySelector('[data-test=recent] li[data-id=%q]')`, traineeBenaissa), 5*time.Second)
	// The status bar counts the outbox asynchronously after the write.
	waitFor(t, ctx, "the status bar counting the tap's check-in (102 pending)",
		`document.querySelector('[data-test=pending]').dataset.count === "102"`, 10*time.Second)
}
