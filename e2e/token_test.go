package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"prodays/api"
	"prodays/auth"
	"prodays/internal/testenv"
)

// refreshCookie reads the phone's HttpOnly refresh cookie through CDP.
func refreshCookie(t *testing.T, ctx context.Context, srv *server) string {
	t.Helper()
	v, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (string, error) {
		res, err := cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{srv.URL + "/api/v1/auth/refresh"}})
		if err != nil {
			return "", err
		}
		for _, c := range res.Cookies {
			if c.Name == api.RefreshCookie {
				return c.Value, nil
			}
		}
		return "", nil
	})
	if err != nil || v == "" {
		t.Fatalf("refresh cookie: %q %v", v, err)
	}
	return v
}

// TestTokenExpiryOffline: the phone records check-ins offline while its
// access token expires (the server's clock moves past the token's
// lifetime); back online, the server answers 401, the app refreshes the
// token through its cookie and every check-in is applied. Then the refresh
// token is revoked by a logout from another place: the next sync cannot
// refresh, the app asks to log in again, keeps the outbox, and pushes it
// after the new login.
func TestTokenExpiryOffline(t *testing.T) {
	clk := &clock{}
	srv, ctx := openApp(t, 50, serverOptions{Clock: clk}, 3*time.Minute)
	loginAndDownload(t, ctx, srv)
	waitFor(t, ctx, "sync idle", `document.querySelector('[data-test=sync-now]')?.getAttribute('aria-busy') === 'false'`, 20*time.Second)
	p := &phone{name: "phone", ctx: ctx}

	offlineCheckIns := func(ids map[string]string) {
		t.Helper()
		srv.stop()
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/#/activity/MTG-0001")); err != nil {
			t.Fatal(err)
		}
		waitFor(t, ctx, "the activity screen", `!!document.querySelector('#q')`, 10*time.Second)
		for q, id := range ids {
			p.checkIn(t, q, id)
		}
		waitFor(t, ctx, "pending", fmt.Sprintf(`document.querySelector('[data-test=pending]')?.dataset.count === '%d'`, len(ids)), 5*time.Second)
		// Past the access token's lifetime, as seen by the server.
		clk.Advance(auth.DefaultAccessTTL + time.Hour)
		srv.restart()
	}

	t.Run("refreshed", func(t *testing.T) {
		offlineCheckIns(map[string]string{"ait baha": traineeAit, "benaissa": traineeBenaissa, "el idrissi kh": traineeByID})
		p.syncUntilEmpty(t)
		got := srv.presences(t)
		want := []string{"MTG-0001|trainee|" + traineeAit, "MTG-0001|trainee|" + traineeBenaissa, "MTG-0001|trainee|" + traineeByID}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("server presences %v, want %v", got, want)
		}
		unauth, refreshes := read(srv.faults, func(f *faults) int { return f.unauthorized }), read(srv.faults, func(f *faults) []int { return f.refreshes })
		if unauth == 0 || !slices.Contains(refreshes, http.StatusOK) {
			t.Errorf("expected a 401 with the expired token then a refresh: 401s %d, refreshes %v", unauth, refreshes)
		}
		if eval[int](t, ctx, `document.querySelectorAll('[data-test=issues]').length`) != 0 {
			t.Errorf("refused or flagged: %s", text(t, ctx, "[data-test=issues]"))
		}
	})

	t.Run("refresh revoked", func(t *testing.T) {
		// Logout from another place with the phone's refresh token.
		tok := refreshCookie(t, ctx, srv)
		env := &testenv.Env{URL: srv.URL}
		if st := env.Do(t, "POST", "/api/v1/auth/logout", "", map[string]string{"refresh_token": tok}, nil); st != http.StatusNoContent {
			t.Fatalf("logout elsewhere: %d", st)
		}
		offlineCheckIns(map[string]string{"الادريسي": traineeArabic, "bennani youssef": matricule(25, 105, 104)})
		waitFor(t, ctx, "the request to log in again", `[...document.querySelectorAll('[data-test=status] a')].some((a) => a.textContent === 'Session expirée : se reconnecter')`, 60*time.Second)
		if n := text(t, ctx, "[data-test=pending]"); !strings.HasPrefix(n, "2 ") {
			t.Errorf("outbox after the failed refresh: %q, want 2 kept", n)
		}
		if got := srv.presences(t); len(got) != 3 {
			t.Errorf("server presences before the new login: %v", got)
		}
		if r := read(srv.faults, func(f *faults) []int { return f.refreshes }); r[len(r)-1] != http.StatusUnauthorized {
			t.Errorf("refreshes %v: the last one should be refused (401)", r)
		}
		jsClick(t, ctx, `[data-test=status] a[href="#/login"]`)
		waitFor(t, ctx, "the login form", `!!document.querySelector('[data-test=login-form]')`, 10*time.Second)
		if got := text(t, ctx, "main"); !strings.Contains(got, "Les pointages déjà enregistrés sur ce téléphone sont conservés") {
			t.Errorf("login screen: %q", got)
		}
		eval[bool](t, ctx, `(() => { document.querySelector('#username').value = 's.staff'; return true; })()`)
		if err := chromedp.Do(ctx,
			chromedp.SendKeys(chromedp.CSS("#password"), testenv.Password),
			chromedp.Click(chromedp.CSS("[data-test=login-form] button[type=submit]"))); err != nil {
			t.Fatal(err)
		}
		waitFor(t, ctx, "the outbox pushed after the new login", `document.querySelector('[data-test=pending]')?.dataset.count === '0'`, 60*time.Second)
		if got := srv.presences(t); len(got) != 5 {
			t.Errorf("server presences after the new login: %v, want 5", got)
		}
		if eval[int](t, ctx, `document.querySelectorAll('[data-test=status] a[href="#/login"]').length`) != 0 {
			t.Error("still asking to log in after the new login")
		}
	})
}
