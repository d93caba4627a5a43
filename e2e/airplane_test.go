package e2e_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// emulateParams are the parameters of Network.emulateNetworkConditions
// (deprecated in the protocol, so absent from cdproto, but still the one
// command whose offline mode also drives navigator.onLine and the
// online/offline events, as airplane mode does on a phone).
type emulateParams struct {
	Offline            bool    `json:"offline"`
	Latency            float64 `json:"latency"`
	DownloadThroughput float64 `json:"downloadThroughput"`
	UploadThroughput   float64 `json:"uploadThroughput"`
}

var emulateNetworkConditions = cdp.Command[emulateParams, cdp.Empty]{Method: "Network.emulateNetworkConditions"}

// airplane drives a tab's network through DevTools: the browser's own
// offline emulation, and the Fetch domain in front of the app's pushes
// (a push can be made to fail, or held and released later).
type airplane struct {
	t   *testing.T
	ctx context.Context
	mu  sync.Mutex
	// Knobs: how many of the next pushes fail, and how many are held.
	fail, hold int
	held       []fetch.RequestID
	// Counts.
	failed, holds, passed int
}

// newAirplane enables the network and Fetch domains on the tab of ctx.
func newAirplane(t *testing.T, ctx context.Context) *airplane {
	t.Helper()
	a := &airplane{t: t, ctx: ctx}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("Network.enable: %v", err)
	}
	events := chromedp.Events(ctx, fetch.RequestPaused)
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*/api/v1/sync/push"}}}); err != nil {
		t.Fatalf("Fetch.enable: %v", err)
	}
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			a.paused(ev)
		}
	}()
	return a
}

// paused decides the fate of one intercepted push.
func (a *airplane) paused(ev fetch.EventRequestPaused) {
	a.mu.Lock()
	switch {
	case a.fail > 0:
		a.fail--
		a.failed++
		a.mu.Unlock()
		chromedp.Call(a.ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonConnectionFailed})
	case a.hold > 0:
		a.hold--
		a.holds++
		a.held = append(a.held, ev.RequestID)
		a.mu.Unlock()
	default:
		a.passed++
		a.mu.Unlock()
		chromedp.Call(a.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
	}
}

// release lets the held pushes go on to the server (the app may have given
// some up meanwhile: those fail to continue, which is fine).
func (a *airplane) release() {
	a.mu.Lock()
	held := a.held
	a.held = nil
	a.mu.Unlock()
	for _, id := range held {
		chromedp.Call(a.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: id})
	}
}

// setOffline switches the browser's network emulation and checks that
// navigator.onLine follows.
func (a *airplane) setOffline(off bool) {
	a.t.Helper()
	if _, err := chromedp.Call(a.ctx, emulateNetworkConditions, emulateParams{Offline: off, DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
		a.t.Fatalf("Network.emulateNetworkConditions offline=%v: %v", off, err)
	}
	waitFor(a.t, a.ctx, fmt.Sprintf("navigator.onLine = %v", !off), fmt.Sprintf(`navigator.onLine === %v`, !off), 5*time.Second)
}

// drillSeeds is the fixed list of schedules; PRODAYS_DRILL_SEEDS=N runs N
// seeds instead (long runs).
func drillSeeds(t *testing.T) []uint64 {
	n := 20
	if v := os.Getenv("PRODAYS_DRILL_SEEDS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("PRODAYS_DRILL_SEEDS=%q: want a positive number", v)
		}
	}
	seeds := make([]uint64, n)
	for i := range seeds {
		seeds[i] = uint64(1000 + 7*i)
	}
	return seeds
}

// TestAirplaneDrill (issue #15): on one phone, without ever reloading the
// page, seeded schedules of airplane mode on and off (the browser's own
// network emulation), check-ins through the search, "Synchroniser" taps,
// and pushes that fail or hang mid-flight (DevTools Fetch interception).
// After each schedule's last reconnection the outbox must be empty within
// 30 s (the deadline), and the server must hold every check-in
// recorded so far exactly once, applied.
func TestAirplaneDrill(t *testing.T) {
	f := newFixture(120)
	browser := newBrowser(t)
	srv := newServer(t, serverOptions{})
	f.seed(t, srv.DB)
	seeds := drillSeeds(t)
	ctx, cancel := newTab(t, browser, time.Duration(len(seeds))*45*time.Second+time.Minute)
	defer cancel()
	loginAndDownload(t, ctx, srv)
	click(t, ctx, `[data-test=activity][data-id="MTG-0001"]`)
	waitFor(t, ctx, "the activity", `!!document.querySelector('#q')`, 5*time.Second)
	waitFor(t, ctx, "sync idle", `document.querySelector('[data-test=sync-now]')?.getAttribute('aria-busy') === 'false'`, 20*time.Second)
	eval[bool](t, ctx, `(window.__drillPage = true)`)
	air := newAirplane(t, ctx)

	var pool []string
	for _, tr := range f.Trainees[4:] {
		pool = append(pool, tr["trainee_id"].(string))
	}
	var recorded []string
	offlineTapSeen := false
	for _, seed := range seeds {
		rng := rand.New(rand.NewPCG(seed, 0))
		offline := false
		var log []string
		for step := 0; step < 7; step++ {
			switch k := rng.IntN(9); {
			case k <= 2 && len(pool) > 0: // a check-in
				id := pool[0]
				pool = pool[1:]
				checkInBySearch(t, ctx, "MTG-0001", id)
				recorded = append(recorded, id)
				log = append(log, "check-in")
			case k == 3:
				offline = !offline
				air.setOffline(offline)
				log = append(log, map[bool]string{true: "offline", false: "online"}[offline])
			case k == 4:
				jsClick(t, ctx, "[data-test=sync-now]")
				if offline && !offlineTapSeen {
					waitFor(t, ctx, "the offline notice", `!!document.querySelector('[data-test=sync-offline]')`, 3*time.Second)
					// Nothing was sent: the toast is not the success green.
					if !eval[bool](t, ctx, `(() => {
						const e = document.querySelector('.toast.sync-offline'), p = document.createElement('i');
						p.style.background = 'var(--ok)'; document.body.append(p);
						const green = getComputedStyle(p).backgroundColor; p.remove();
						return !!e && !e.hidden && getComputedStyle(e).backgroundColor !== green;
					})()`) {
						t.Error("the offline-tap toast is missing or success green")
					}
					offlineTapSeen = true
				}
				log = append(log, "sync")
			case k == 5:
				air.mu.Lock()
				air.fail++
				air.mu.Unlock()
				log = append(log, "fail-next")
			case k == 6:
				air.mu.Lock()
				air.hold++
				air.mu.Unlock()
				log = append(log, "hold-next")
			case k == 7:
				air.release()
				log = append(log, "release")
			default:
				log = append(log, "wait")
			}
			time.Sleep(time.Duration(rng.IntN(700)) * time.Millisecond)
		}
		// The end: back online (held pushes are released just before or
		// just after); no new hold from here on.
		air.mu.Lock()
		air.hold = 0
		air.fail = min(air.fail, 2) // a failure or two after the reconnection: the backoff stays short
		air.mu.Unlock()
		releaseFirst := rng.IntN(2) == 0
		if releaseFirst {
			air.release()
		}
		if !offline {
			// Always end with a reconnection: a short airplane mode.
			air.setOffline(true)
			time.Sleep(200 * time.Millisecond)
		}
		air.setOffline(false)
		back := time.Now()
		if !releaseFirst {
			air.release()
		}
		waitFor(t, ctx, fmt.Sprintf("seed %d (%v): the outbox empty within 30 s of the reconnection", seed, log),
			`import('/js/outbox.js').then((o) => o.size()).then((n) => n === 0)`, 30*time.Second)
		t.Logf("seed %d: %v; outbox empty %.1f s after the reconnection", seed, log, time.Since(back).Seconds())
		waitFor(t, ctx, "the pending count at 0", `document.querySelector('[data-test=pending]')?.dataset.count === '0'`, 5*time.Second)
		checkServerHoldsOnce(t, srv, recorded)
	}
	if !eval[bool](t, ctx, `window.__drillPage === true`) {
		t.Error("the page was reloaded during the drill")
	}
	if !offlineTapSeen {
		t.Error("no schedule tapped Synchroniser while offline")
	}
	t.Logf("%d check-ins; pushes failed %d, held %d, passed %d", len(recorded), air.failed, air.holds, air.passed)
	if air.failed == 0 || air.holds == 0 || len(recorded) < 20 {
		t.Errorf("the schedules exercised too little: %d failed, %d held, %d check-ins", air.failed, air.holds, len(recorded))
	}
}

// tapCheckIn types trainee id's matricule in the search field and taps
// the check-in button of its row.
func tapCheckIn(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	if !eval[bool](t, ctx, `(() => {
		const q = document.querySelector('#q');
		q.value = `+jsString(id)+`;
		q.dispatchEvent(new Event('input'));
		const b = document.querySelector('[data-test=results] li[data-id="`+id+`"] [data-test=check-in]');
		if (b) b.click();
		return !!b;
	})()`) {
		t.Fatalf("no check-in button for %s", id)
	}
}

// checkInBySearch checks trainee id in at activity through the search
// field and the row's button, and waits for the phone to show them present.
func checkInBySearch(t *testing.T, ctx context.Context, activity, id string) {
	t.Helper()
	tapCheckIn(t, ctx, id)
	waitFor(t, ctx, id+" present", `import('/js/roster.js').then((r) => r.state(`+jsString(activity)+`, { kind: 'trainee', id: `+jsString(id)+` }).present)`, 5*time.Second)
}

// checkServerHoldsOnce checks that the server holds one applied check-in
// for each trainee of recorded, and no other, and as many presences.
func checkServerHoldsOnce(t *testing.T, srv *server, recorded []string) {
	t.Helper()
	rows, err := srv.DB.Read.Query(`SELECT json_extract(payload, '$.person.id'), status FROM mutations WHERE type = 'attendance.check_in' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id, status string
		if err := rows.Scan(&id, &status); err != nil {
			t.Fatal(err)
		}
		if status != "applied" {
			t.Errorf("check-in of %s: %s", id, status)
		}
		got = append(got, id)
	}
	want := slices.Sorted(slices.Values(recorded))
	if !slices.Equal(got, want) {
		t.Fatalf("server's check-ins:\n%v\nwant each once:\n%v", got, want)
	}
	if n := len(srv.presences(t)); n != len(recorded) {
		t.Errorf("presences: %d, want %d", n, len(recorded))
	}
}
