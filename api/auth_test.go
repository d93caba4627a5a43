package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"prodays/auth"
	"prodays/internal/testenv"
)

func TestLoginRefreshLogout(t *testing.T) {
	env, s := testenv.NewAdmin(t, testenv.Options{}, "dev-1")

	var me map[string]any
	if st := s.Do(t, "GET", "/api/v1/auth/me", nil, &me); st != http.StatusOK || me["username"] != "a.admin" || me["role"] != "admin" {
		t.Fatalf("me: %d %v", st, me)
	}

	// Refresh rotates: the old refresh token is spent.
	var r1 map[string]any
	if st := env.Do(t, "POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": s.RefreshToken}, &r1); st != http.StatusOK {
		t.Fatalf("refresh: %d %v", st, r1)
	}
	next := r1["refresh_token"].(string)
	if next == s.RefreshToken {
		t.Fatal("refresh token not rotated")
	}
	// Reuse of the spent token: 401, and its successor dies too.
	var p map[string]any
	if st := env.Do(t, "POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": s.RefreshToken}, &p); st != http.StatusUnauthorized || p["code"] != "refresh_invalid" {
		t.Fatalf("reuse: %d %v", st, p)
	}
	if st := env.Do(t, "POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": next}, &p); st != http.StatusUnauthorized {
		t.Fatalf("successor after reuse: %d, want 401", st)
	}

	// Logout revokes.
	s2 := env.Login(t, "a.admin", "dev-1")
	if st := s2.Do(t, "POST", "/api/v1/auth/logout", map[string]string{"refresh_token": s2.RefreshToken}, nil); st != http.StatusNoContent {
		t.Fatalf("logout: %d", st)
	}
	if st := env.Do(t, "POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": s2.RefreshToken}, &p); st != http.StatusUnauthorized {
		t.Fatalf("refresh after logout: %d", st)
	}
}

func TestLoginFailures(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	testenv.CreateUser(t, env.DB, "a.admin", "admin", "", "")
	for _, tc := range []struct {
		name string
		body map[string]string
		want int
		code string
	}{
		{"wrong password", map[string]string{"username": "a.admin", "password": "nope-nope-nope", "device_id": "d"}, 401, "invalid_credentials"},
		{"unknown user", map[string]string{"username": "ghost", "password": "nope-nope-nope", "device_id": "d"}, 401, "invalid_credentials"},
		{"no device", map[string]string{"username": "a.admin", "password": testenv.Password}, 400, "invalid"},
		{"huge username", map[string]string{"username": strings.Repeat("u", 129), "password": "nope-nope-nope", "device_id": "d"}, 400, "invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p map[string]any
			st := env.Do(t, "POST", "/api/v1/auth/login", "", tc.body, &p)
			if st != tc.want || p["code"] != tc.code {
				t.Fatalf("got %d %v, want %d %s", st, p, tc.want, tc.code)
			}
		})
	}
}

// TestAnonymousLogout: a logout with neither a refresh token nor a valid
// access token is a no-op 204 that writes no audit entry; a real one is
// audited.
func TestAnonymousLogout(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	testenv.CreateUser(t, env.DB, "a.admin", "admin", "", "")
	count := func() int {
		var n int
		if err := env.DB.Read.QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'auth.logout'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, tc := range []struct {
		name, token string
		body        any
	}{
		{"nothing", "", nil},
		{"empty body", "", map[string]string{}},
		{"bad access token", "not-a-jwt", nil},
	} {
		if st := env.Do(t, "POST", "/api/v1/auth/logout", tc.token, tc.body, nil); st != http.StatusNoContent {
			t.Fatalf("%s: %d, want 204", tc.name, st)
		}
	}
	if n := count(); n != 0 {
		t.Fatalf("anonymous logouts wrote %d audit entries, want 0", n)
	}
	s := env.Login(t, "a.admin", "dev-1")
	if st := env.Do(t, "POST", "/api/v1/auth/logout", "", map[string]string{"refresh_token": s.RefreshToken}, nil); st != http.StatusNoContent {
		t.Fatalf("logout: %d", st)
	}
	if n := count(); n != 1 {
		t.Fatalf("logout wrote %d audit entries, want 1", n)
	}
}

// TestSessionOutlivesADayOffline: a staff member logs in in the morning,
// goes offline, records check-ins after the access token has expired (the
// phone keeps them in its outbox), comes back a day later, refreshes with
// the refresh token and pushes: every mutation is applied.
func TestSessionOutlivesADayOffline(t *testing.T) {
	c := newClock()
	env := testenv.New(t, testenv.Options{Now: c.Now})
	dataFixture(t, env)
	testenv.CreateUser(t, env.DB, "k.staff", "staff", "EFP-CS-1", "")
	s := env.Login(t, "k.staff", "phone-offline")

	// Offline: the access token expires while check-ins are recorded.
	c.Advance(auth.DefaultAccessTTL + auth.DefaultLeeway + time.Minute)
	recorded := c.Now()
	outbox := []map[string]any{
		{"id": "0b6c1c39-5d2e-4c54-9a43-1f7c1b7f0a01", "seq": 1, "type": "attendance.check_in", "recorded_at": recorded,
			"activity_id": "ACT-CS-1", "person": map[string]string{"kind": "trainee", "id": "TR-CS-1"}, "method": "qr"},
		{"id": "0b6c1c39-5d2e-4c54-9a43-1f7c1b7f0a02", "seq": 2, "type": "attendance.check_in", "recorded_at": recorded.Add(time.Minute),
			"activity_id": "ACT-CS-1", "person": map[string]string{"kind": "trainee", "id": "TR-CS-2"}, "method": "search"},
	}
	push := func(token string) answer {
		return send(t, env, "POST", "/api/v1/sync/push", token, map[string]any{
			"device_id": "phone-offline", "client_time": c.Now(), "app_version": "test", "outbox_size": len(outbox), "mutations": outbox})
	}
	wantProblem(t, "push with the expired access token", push(s.AccessToken), http.StatusUnauthorized, "unauthorized")

	// A day later, back online: refresh, then push the outbox.
	c.Advance(24 * time.Hour)
	var ref struct {
		AccessToken string `json:"access_token"`
	}
	if st := env.Do(t, "POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": s.RefreshToken}, &ref); st != http.StatusOK {
		t.Fatalf("refresh after a day offline: %d", st)
	}
	a := push(ref.AccessToken)
	if a.Status != http.StatusOK {
		t.Fatalf("push: %d %s", a.Status, a.Body)
	}
	results, _ := a.JSON()["results"].([]any)
	if len(results) != len(outbox) {
		t.Fatalf("push results: %s", a.Body)
	}
	for i, r := range results {
		if st := r.(map[string]any)["status"]; st != "applied" {
			t.Errorf("mutation %d: status %v, want applied (%v)", i+1, st, r)
		}
	}
	var present int
	if err := env.DB.Read.QueryRow(`SELECT count(*) FROM attendance WHERE activity_id = 'ACT-CS-1' AND present = 1`).Scan(&present); err != nil {
		t.Fatal(err)
	}
	if present != 2 {
		t.Fatalf("present at ACT-CS-1: %d, want 2", present)
	}
}
