package e2e_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"prodays/internal/testenv"
)

// phone is one staff member's phone: its own browser (own profile, so its
// own IndexedDB, service worker and cookie) and its tab.
type phone struct {
	name     string
	ctx      context.Context
	deviceID string
}

// newPhone starts a browser, logs username in and downloads the scope.
func newPhone(t *testing.T, srv *server, name, username string) *phone {
	t.Helper()
	ctx, cancel := newTab(t, newBrowser(t), 4*time.Minute)
	t.Cleanup(cancel)
	loginAndDownloadAs(t, ctx, srv, username)
	id := eval[string](t, ctx, `import('/js/db.js').then((db) => db.getMeta('device_id'))`)
	if !uuidRE.MatchString(id) {
		t.Fatalf("%s: device id %q", name, id)
	}
	return &phone{name: name, ctx: ctx, deviceID: id}
}

// checkIn checks trainee id in at the open activity screen by searching
// for query and tapping the result.
func (p *phone) checkIn(t *testing.T, query, id string) {
	t.Helper()
	eval[bool](t, p.ctx, `(() => { const i = document.querySelector('#q'); i.value = ''; i.dispatchEvent(new Event('input')); return true; })()`)
	if err := chromedp.Do(p.ctx, chromedp.SendKeys(chromedp.CSS("#q"), query)); err != nil {
		t.Fatal(err)
	}
	sel := fmt.Sprintf(`[data-test=results] li[data-id=%q] [data-test=check-in]`, id)
	waitFor(t, p.ctx, p.name+": result "+id+" for "+query, fmt.Sprintf(`!!document.querySelector(%q)`, sel), 10*time.Second)
	click(t, p.ctx, sel)
	waitFor(t, p.ctx, p.name+": "+id+" in the recent list", fmt.Sprintf(`!!document.querySelector('[data-test=recent] li[data-id=%q]')`, id), 10*time.Second)
}

// syncUntilEmpty presses "Synchroniser" until the outbox is empty and a
// sync has completed after that.
func (p *phone) syncUntilEmpty(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		idle := eval[bool](t, p.ctx, `document.querySelector('[data-test=sync-now]')?.getAttribute('aria-busy') === 'false'`)
		if idle {
			if eval[string](t, p.ctx, `document.querySelector('[data-test=pending]').dataset.count`) == "0" {
				return
			}
			jsClick(t, p.ctx, "[data-test=sync-now]")
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the outbox does not drain: %s", p.name, text(t, p.ctx, "[data-test=status]"))
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// pullNow runs one more sync (push and pull) and waits for its end.
func (p *phone) pullNow(t *testing.T) {
	t.Helper()
	ok := eval[bool](t, p.ctx, `import('/js/sync.js').then(async (s) => { await s.syncNow(); return !s.state.error; })`)
	if !ok {
		t.Fatalf("%s: sync failed: %s", p.name, eval[string](t, p.ctx, `import('/js/sync.js').then((s) => String(s.state.error))`))
	}
}

// TestTwoPhonesOverlap: two phones (two browsers, two staff users of the
// establishment) check overlapping trainees in at the same activity while
// the server is down, then sync one after the other, in both orders: the
// server holds exactly one presence per trainee, and after a pull each
// phone shows the other's check-ins, on screen and in its pulled
// attendance rows.
func TestTwoPhonesOverlap(t *testing.T) {
	chromium(t)
	for _, order := range []string{"A then B", "B then A"} {
		t.Run(order, func(t *testing.T) {
			f := newFixture(50)
			srv := newServer(t, serverOptions{})
			f.seed(t, srv.DB)
			testenv.CreateUser(t, srv.DB, "s.staff2", "staff", "EFP0105", "")
			a := newPhone(t, srv, "phone A", "s.staff")
			b := newPhone(t, srv, "phone B", "s.staff2")
			for _, p := range []*phone{a, b} {
				waitFor(t, p.ctx, p.name+": sync idle", `document.querySelector('[data-test=sync-now]')?.getAttribute('aria-busy') === 'false'`, 20*time.Second)
			}

			srv.stop()
			for _, p := range []*phone{a, b} {
				if err := chromedp.Do(p.ctx, chromedp.Navigate(srv.URL+"/#/activity/MTG-0001")); err != nil {
					t.Fatal(err)
				}
				waitFor(t, p.ctx, p.name+": the activity screen", `!!document.querySelector('#q')`, 10*time.Second)
			}
			a.checkIn(t, "ait baha", traineeAit)
			a.checkIn(t, "benaissa", traineeBenaissa)
			a.checkIn(t, "el idrissi kh", traineeByID)
			b.checkIn(t, "benaissa", traineeBenaissa)
			b.checkIn(t, "el idrissi kh", traineeByID)
			b.checkIn(t, "الادريسي", traineeArabic)
			for _, p := range []*phone{a, b} {
				waitFor(t, p.ctx, p.name+": 3 pending", `document.querySelector('[data-test=pending]')?.dataset.count === '3'`, 5*time.Second)
			}

			first, second := a, b
			if order == "B then A" {
				first, second = b, a
			}
			srv.faults.set(func(f *faults) { f.held = map[string]bool{second.deviceID: true} })
			srv.restart()
			first.syncUntilEmpty(t)
			if got := srv.presences(t); len(got) != 3 {
				t.Fatalf("after %s alone: %v", first.name, got)
			}
			srv.faults.set(func(f *faults) { f.held = nil })
			second.syncUntilEmpty(t)
			first.pullNow(t)
			second.pullNow(t)

			var n int
			if err := srv.DB.Read.QueryRow(`SELECT count(*) FROM attendance WHERE activity_id = 'MTG-0001'`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			got := srv.presences(t)
			want := []string{"MTG-0001|trainee|" + traineeAit, "MTG-0001|trainee|" + traineeBenaissa, "MTG-0001|trainee|" + traineeByID, "MTG-0001|trainee|" + traineeArabic}
			slices.Sort(want)
			if n != 4 || !slices.Equal(got, want) {
				t.Fatalf("server attendance: %d rows, present %v\nwant one each of %v", n, got, want)
			}
			var checkIns int
			if err := srv.DB.Read.QueryRow(`SELECT count(*) FROM mutations WHERE type = 'attendance.check_in' AND status = 'applied'`).Scan(&checkIns); err != nil || checkIns != 6 {
				t.Errorf("applied check-ins on the server: %d %v, want 6 (both phones' overlaps kept as check-ins)", checkIns, err)
			}

			for _, p := range []*phone{a, b} {
				// The pulled attendance rows.
				rows := eval[[]string](t, p.ctx, `import('/js/db.js').then((db) => db.getAll('attendance')).then((rs) => rs
					.filter((r) => r.data.activity_id === 'MTG-0001' && r.data.present)
					.map((r) => r.data.person.kind + '|' + r.data.person.id + '|' + (r.data.check_in_ids || []).length).sort())`)
				var ids []string
				for _, r := range rows {
					parts := strings.Split(r, "|")
					ids = append(ids, "MTG-0001|"+parts[0]+"|"+parts[1])
					overlap := parts[1] == traineeBenaissa || parts[1] == traineeByID
					if overlap && parts[2] != "2" || !overlap && parts[2] != "1" {
						t.Errorf("%s: attendance row %s: check_in_ids count, want 2 for the overlap, 1 otherwise", p.name, r)
					}
				}
				slices.Sort(ids)
				if !slices.Equal(ids, want) {
					t.Errorf("%s: pulled attendance rows %v, want %v", p.name, rows, want)
				}
				// On screen: the count and each trainee marked present.
				waitFor(t, p.ctx, p.name+": 4 present", `document.querySelector('[data-test=count]').textContent.startsWith('4 présents')`, 10*time.Second)
				for q, id := range map[string]string{"ait baha": traineeAit, "benaissa": traineeBenaissa, "el idrissi kh": traineeByID, "الادريسي": traineeArabic} {
					eval[bool](t, p.ctx, `(() => { const i = document.querySelector('#q'); i.value = `+jsString(q)+`; i.dispatchEvent(new Event('input')); return true; })()`)
					waitFor(t, p.ctx, p.name+": "+id+" shown present", fmt.Sprintf(`!!document.querySelector('[data-test=results] li.present[data-id=%q]')`, id), 5*time.Second)
				}
			}
		})
	}
}
