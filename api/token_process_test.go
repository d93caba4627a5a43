package api_test

import (
	"net/http"
	oexec "os/exec"
	"strings"
	"testing"

	"prodays/internal/synctest"
	"prodays/internal/testenv"
	"prodays/store"
)

// bossAndSupSeed seeds synctest's roster, boss (admin) and sup1
// (supervisor of RSK) with passwords.
func bossAndSupSeed(tb testing.TB, db *store.DB) {
	synctest.Seed(tb, db)
	testenv.CreateUser(tb, db, "boss", "admin", "", "")
	testenv.CreateUser(tb, db, "sup1", "supervisor", "", "RSK")
}

// accountsSeed is bossAndSupSeed plus staff1, staff2 and staff3 (E1 to
// E3), walker (E1) and rev (E2).
func accountsSeed(tb testing.TB, db *store.DB) {
	bossAndSupSeed(tb, db)
	for _, u := range []string{"staff1", "staff2", "staff3"} {
		est := map[string]string{"staff1": "E1", "staff2": "E2", "staff3": "E3"}[u]
		testenv.CreateUser(tb, db, u, "staff", est, "")
	}
	testenv.CreateUser(tb, db, "walker", "staff", "E1", "")
	testenv.CreateUser(tb, db, "rev", "staff", "E2", "")
}

// TestTokenFollowsAccount (issue #13, finding 5) runs against the real
// binary: a change of role, scope or the disabled flag, a device
// revocation and a logout take effect on the next request made with an
// access token issued before, not when the token expires. Changes made by
// another process (the `prodays user` command on the same database) too.
func TestTokenFollowsAccount(t *testing.T) {
	env := testenv.Process(t, testenv.ProcessOptions{Seed: accountsSeed})
	boss := env.Login(t, "boss", "dev-boss")
	get := func(t *testing.T, tok, path string) answer {
		t.Helper()
		return send(t, env, "GET", path, tok, nil)
	}
	admin := func(t *testing.T, method, path string, body any) {
		t.Helper()
		if a := send(t, env, method, path, boss.AccessToken, body); a.Status != http.StatusOK {
			t.Fatalf("%s %s: %d %s", method, path, a.Status, a.Body)
		}
	}
	denied := func(t *testing.T, what string, a answer) {
		t.Helper()
		if a.Status != http.StatusUnauthorized && a.Status != http.StatusForbidden {
			t.Errorf("%s: got %d %s, want 401 or 403", what, a.Status, a.Body)
		}
	}

	t.Run("demoted supervisor", func(t *testing.T) {
		sup := env.Login(t, "sup1", "dev-sup1")
		reads := []string{"/api/v1/exports/participations.csv?region=RSK", "/api/v1/sync/pull", "/api/v1/review/flags"}
		for _, p := range reads {
			if a := get(t, sup.AccessToken, p); a.Status != http.StatusOK {
				t.Fatalf("before: GET %s: %d %s", p, a.Status, a.Body)
			}
		}
		admin(t, "PATCH", "/api/v1/admin/users/sup1", map[string]any{"role": "staff", "establishment_code": "E1"})
		for _, p := range reads {
			denied(t, "old token after demotion: GET "+p, get(t, sup.AccessToken, p))
		}
		// A new session has the new role: staff may pull, not export.
		again := env.Login(t, "sup1", "dev-sup1")
		if a := get(t, again.AccessToken, "/api/v1/sync/pull"); a.Status != http.StatusOK {
			t.Errorf("new token, pull: %d %s", a.Status, a.Body)
		}
		wantProblem(t, "new token, export", get(t, again.AccessToken, reads[0]), http.StatusForbidden, "forbidden")
	})

	t.Run("disabled by an admin", func(t *testing.T) {
		s := env.Login(t, "staff1", "dev-staff1")
		if a := get(t, s.AccessToken, "/api/v1/auth/me"); a.Status != http.StatusOK {
			t.Fatalf("before: %d", a.Status)
		}
		admin(t, "PATCH", "/api/v1/admin/users/staff1", map[string]any{"disabled": true})
		wantProblem(t, "old token of a disabled account", get(t, s.AccessToken, "/api/v1/auth/me"), http.StatusUnauthorized, "user_disabled")
		// Enabled again, the old session stays closed: log in again.
		admin(t, "PATCH", "/api/v1/admin/users/staff1", map[string]any{"disabled": false})
		wantProblem(t, "old token once enabled again", get(t, s.AccessToken, "/api/v1/auth/me"), http.StatusUnauthorized, "unauthorized")
	})

	t.Run("disabled by the prodays command, another process", func(t *testing.T) {
		s := env.Login(t, "staff2", "dev-staff2")
		if a := get(t, s.AccessToken, "/api/v1/auth/me"); a.Status != http.StatusOK {
			t.Fatalf("before: %d", a.Status)
		}
		out, err := oexec.Command(testenv.Binary(t), "user", "disable", "staff2", "--db", env.Proc.DB).CombinedOutput()
		if err != nil {
			t.Fatalf("prodays user disable: %v\n%s", err, out)
		}
		wantProblem(t, "old token after `prodays user disable`", get(t, s.AccessToken, "/api/v1/auth/me"), http.StatusUnauthorized, "user_disabled")
	})

	t.Run("revoked device", func(t *testing.T) {
		s := env.Login(t, "rev", "dev-rev")
		admin(t, "POST", "/api/v1/admin/devices/dev-rev/revoke", nil)
		wantProblem(t, "token of a revoked device", get(t, s.AccessToken, "/api/v1/sync/pull"), http.StatusUnauthorized, "device_revoked")
	})

	t.Run("logout ends that session only", func(t *testing.T) {
		phone := env.Login(t, "staff3", "dev-staff3-phone")
		tablet := env.Login(t, "staff3", "dev-staff3-tablet")
		if a := send(t, env, "POST", "/api/v1/auth/logout", phone.AccessToken, map[string]string{"refresh_token": phone.RefreshToken}); a.Status != http.StatusNoContent {
			t.Fatalf("logout: %d %s", a.Status, a.Body)
		}
		wantProblem(t, "access token after its logout", get(t, phone.AccessToken, "/api/v1/auth/me"), http.StatusUnauthorized, "unauthorized")
		if a := get(t, tablet.AccessToken, "/api/v1/auth/me"); a.Status != http.StatusOK {
			t.Errorf("the other device after that logout: %d %s", a.Status, a.Body)
		}
		// A logout with the access token only (no refresh token) ends
		// the session of that token.
		if a := send(t, env, "POST", "/api/v1/auth/logout", tablet.AccessToken, nil); a.Status != http.StatusNoContent {
			t.Fatalf("logout by access token: %d %s", a.Status, a.Body)
		}
		wantProblem(t, "access token after a logout naming it", get(t, tablet.AccessToken, "/api/v1/auth/me"), http.StatusUnauthorized, "unauthorized")
		wantProblem(t, "refresh after a logout by access token", send(t, env, "POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": tablet.RefreshToken}),
			http.StatusUnauthorized, "refresh_invalid")
	})

	t.Run("promoted staff resyncs", func(t *testing.T) {
		s := env.Login(t, "walker", "dev-walker")
		var page struct {
			Cursor  string `json:"cursor"`
			HasMore bool   `json:"has_more"`
		}
		if st := s.Do(t, "GET", "/api/v1/sync/pull?limit=1000", nil, &page); st != http.StatusOK || page.HasMore || page.Cursor == "" {
			t.Fatalf("snapshot: %d %+v", st, page)
		}
		admin(t, "PATCH", "/api/v1/admin/users/walker", map[string]any{"role": "supervisor", "region_code": "CS"})
		wantProblem(t, "old staff token after promotion", get(t, s.AccessToken, "/api/v1/sync/pull?cursor="+page.Cursor), http.StatusUnauthorized, "unauthorized")
		var sess struct {
			AccessToken string `json:"access_token"`
		}
		if st := env.Do(t, "POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": s.RefreshToken}, &sess); st != http.StatusOK {
			t.Fatalf("refresh: %d", st)
		}
		wantProblem(t, "old cursor with the new token", get(t, sess.AccessToken, "/api/v1/sync/pull?cursor="+page.Cursor), http.StatusConflict, "resync")
		a := get(t, sess.AccessToken, "/api/v1/sync/pull?limit=1000")
		if a.Status != http.StatusOK || !strings.Contains(string(a.Body), `"B1"`) {
			t.Errorf("fresh snapshot as supervisor of CS: %d, want 200 with activity B1: %s", a.Status, a.Body)
		}
	})
}

// TestMetricsAccess (issue #13): /metrics answers the scrape token
// (PRODAYS_METRICS_TOKEN) or an admin's access token, and nobody else,
// not even a loopback client without a token (a proxy on the same host
// that adds no forwarding header would make every client one).
func TestMetricsAccess(t *testing.T) {
	const metricsToken = "scrape-token-0123456789abcdef"
	env := testenv.Process(t, testenv.ProcessOptions{
		Seed: bossAndSupSeed,
		Env:  []string{"PRODAYS_METRICS_TOKEN=" + metricsToken},
	})
	boss := env.Login(t, "boss", "dev-boss")
	sup := env.Login(t, "sup1", "dev-sup1")
	for _, c := range []struct {
		name, token string
		want        int
	}{
		{"no token, from loopback", "", http.StatusUnauthorized},
		{"wrong token", "not-the-scrape-token", http.StatusUnauthorized},
		{"scrape token", metricsToken, http.StatusOK},
		{"admin token", boss.AccessToken, http.StatusOK},
		{"non-admin token", sup.AccessToken, http.StatusForbidden},
	} {
		a := send(t, env, "GET", "/metrics", c.token, nil)
		if a.Status != c.want {
			t.Errorf("/metrics, %s: %d, want %d (%.200s)", c.name, a.Status, c.want, a.Body)
		}
		if c.want == http.StatusOK && !strings.Contains(string(a.Body), "prodays_http_requests_total") {
			t.Errorf("/metrics, %s: no prodays_http_requests_total", c.name)
		}
	}
}

// TestMethodNotAllowed (issue #13): a wrong method on a route answers 405
// method_not_allowed with Allow, routes of the review, admin and export
// groups included (they answered 404); unknown paths stay 404.
func TestMethodNotAllowed(t *testing.T) {
	env := testenv.Process(t, testenv.ProcessOptions{Seed: func(tb testing.TB, db *store.DB) {
		testenv.CreateUser(tb, db, "boss", "admin", "", "")
	}})
	boss := env.Login(t, "boss", "dev-boss")
	for _, c := range []struct {
		method, path, token string
		want                int
		allow               string
	}{
		{"DELETE", "/api/v1/sync/pull", boss.AccessToken, 405, "GET"},
		{"POST", "/api/v1/review/flags", boss.AccessToken, 405, "GET"},
		{"POST", "/api/v1/review/flags", "", 405, "GET"},
		{"DELETE", "/api/v1/admin/users", boss.AccessToken, 405, "GET, POST"},
		{"PUT", "/api/v1/exports/participations.csv", "", 405, "GET"},
		{"GET", "/api/v1/review/flags/1/accept", boss.AccessToken, 405, "POST"},
		{"GET", "/api/v1/no-such-thing", boss.AccessToken, 404, ""},
		{"DELETE", "/api/v1/no-such-thing", boss.AccessToken, 404, ""},
		{"GET", "/api/v1/admin/no-such-thing", boss.AccessToken, 404, ""},
		{"POST", "/api/v1/exports/no-such-thing", "", 404, ""},
	} {
		what := c.method + " " + c.path
		a := send(t, env, c.method, c.path, c.token, nil)
		code := map[int]string{405: "method_not_allowed", 404: "not_found"}[c.want]
		wantProblem(t, what, a, c.want, code)
		if got := a.Header.Get("Allow"); got != c.allow {
			t.Errorf("%s: Allow %q, want %q", what, got, c.allow)
		}
	}
}
