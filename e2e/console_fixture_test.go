package e2e_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"prodays/internal/synctest"
	"prodays/internal/testenv"
	"prodays/sync/protocol"
)

// consoleFixture is the e2e fixture plus an activity of the other
// establishment of the region (EFP0200, outside s.staff's scope), a
// supervisor of CS and an admin.
func consoleFixture(t *testing.T) (*server, *testenv.Env) {
	t.Helper()
	f := newFixture(20)
	f.Activities = append(f.Activities, map[string]any{"activity_id": "MTG-0200", "kind": "meeting", "title": "Rencontre : métiers du numérique",
		"date": time.Now().Format("2006-01-02"), "start_time": "11:00", "end_time": "12:00", "establishment_code": "EFP0200", "company_id": "",
		"region_code": "CS", "capacity": 30, "speaker_ids": []string{}, "status": "open"})
	srv := newServer(t, serverOptions{})
	f.seed(t, srv.DB)
	testenv.CreateUser(t, srv.DB, "sup.cs", "supervisor", "", "CS")
	testenv.CreateUser(t, srv.DB, "admin1", "admin", "", "")
	return srv, &testenv.Env{DB: srv.DB, URL: srv.URL}
}

// push sends a phone's push body through the real push API.
func push(t *testing.T, s *testenv.Session, body []byte) {
	t.Helper()
	if a := s.Env.Raw(t, "POST", "/api/v1/sync/push", s.AccessToken, "application/json", body); a.Status != 200 {
		t.Fatalf("push: %d %s", a.Status, a.Body)
	}
}

// staffCheckIns logs s.staff in on dev-staff and pushes one check-in per
// {activity, person kind, person id}, recorded a minute ago.
func staffCheckIns(t *testing.T, env *testenv.Env, checkIns ...[3]string) {
	t.Helper()
	staff := env.Login(t, "s.staff", "dev-staff")
	ph := synctest.NewPhone("dev-staff", time.Now().Add(-time.Minute))
	ms := make([]protocol.Mutation, len(checkIns))
	for i, c := range checkIns {
		ms[i] = ph.CheckIn(c[0], c[1], c[2])
	}
	push(t, staff, synctest.Body("dev-staff", time.Now(), len(ms), ms...))
}

// consoleTab opens a tab of a new browser (its own profile: its own
// login) for timeout, closed at the end of the test, logs username in
// through the login form and waits for a console screen.
func consoleTab(t *testing.T, srv *server, username string, timeout time.Duration) context.Context {
	t.Helper()
	ctx, cancel := newTab(t, newBrowser(t), timeout)
	t.Cleanup(cancel)
	formLogin(t, ctx, srv, username)
	waitFor(t, ctx, "a console screen", `!!document.querySelector('[data-test^=screen-] h1') && !document.querySelector('[data-test^=screen-] [role=status].muted')`, 20*time.Second)
	return ctx
}

// goTo opens a console screen and waits for it to finish loading.
func goTo(t *testing.T, ctx context.Context, hash, screen string) {
	t.Helper()
	eval[bool](t, ctx, fmt.Sprintf(`(location.hash = %q, true)`, hash))
	waitFor(t, ctx, screen, fmt.Sprintf(`!!document.querySelector('[data-test=screen-%s] h1') && !document.querySelector('[data-test=screen-%s] p.muted[role=status]')`, screen, screen), 20*time.Second)
}

// consoleShots writes the page at 360 and 1280 px wide, in French and Arabic.
func consoleShots(t *testing.T, ctx context.Context, name, ready string) {
	t.Helper()
	dir := screenshotDir(t)
	for _, lang := range []string{"fr", "ar"} {
		chooseLang(t, ctx, lang, ready)
		for _, w := range []int64{360, 1280} {
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, 800, chromedp.EmulateScale(1))); err != nil {
				t.Fatal(err)
			}
			screenshot(t, ctx, dir, fmt.Sprintf("%s-%s-%d", name, lang, w))
		}
	}
	chooseLang(t, ctx, "fr", ready)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 740, chromedp.EmulateScale(1), chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
}

// closeActivity closes the activity id through the API as s.
func closeActivity(t *testing.T, s *testenv.Session, id string) {
	t.Helper()
	if st := s.Do(t, "POST", "/api/v1/activities/"+id+"/close", nil, nil); st != 204 {
		t.Fatalf("close %s: %d", id, st)
	}
}
