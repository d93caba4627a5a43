package api_test

import (
	"testing"

	"prodays/internal/testenv"
)

func TestSecurityHeaders(t *testing.T) {
	env, s := testenv.NewAdmin(t, testenv.Options{}, "dev-1")
	for _, tc := range []struct {
		name, method, path, token string
		headers                   []string
	}{
		{"authenticated answer", "GET", "/api/v1/auth/me", s.AccessToken, nil},
		{"error answer", "GET", "/api/v1/auth/me", "", nil},
		{"unknown API route", "GET", "/api/v1/nope", "", nil},
		{"cross-origin read", "GET", "/api/v1/auth/me", s.AccessToken, []string{"Origin", "https://evil.example"}},
		{"CORS preflight", "OPTIONS", "/api/v1/auth/login", "", []string{"Origin", "https://evil.example", "Access-Control-Request-Method", "POST"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := send(t, env, tc.method, tc.path, tc.token, nil, tc.headers...)
			if got := a.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control: got %q, want no-store", got)
			}
			for _, h := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods"} {
				if v := a.Header.Get(h); v != "" {
					t.Errorf("%s: %q, want none (CORS is closed)", h, v)
				}
			}
			if got := a.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options: got %q", got)
			}
		})
	}
}
