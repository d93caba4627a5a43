package api_test

import (
	"net/http"
	"strings"
	"testing"

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
