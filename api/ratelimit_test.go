package api_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"prodays/api"
	"prodays/auth/limiter"
	"prodays/internal/testenv"
)

// limitedEnv is a server with a pinned clock that takes the client address
// from X-Forwarded-For (as behind a trusted proxy), so that a test can
// speak from several addresses.
func limitedEnv(t *testing.T) (*testenv.Env, *clock) {
	c := newClock()
	env := testenv.New(t, testenv.Options{Now: c.Now, Configure: func(s *api.Server) {
		s.IPExtractor = echo.ExtractIPFromXFFHeader()
	}})
	testenv.CreateUser(t, env.DB, "a.admin", "admin", "", "")
	return env, c
}

func login(t *testing.T, env *testenv.Env, user, pw, addr string) answer {
	t.Helper()
	return send(t, env, "POST", "/api/v1/auth/login", "",
		map[string]string{"username": user, "password": pw, "device_id": "dev-" + addr}, "X-Forwarded-For", addr)
}

func TestLoginRateLimitPerUsername(t *testing.T) {
	env, c := limitedEnv(t)
	// 50 wrong passwords in a row, each from its own address.
	for i := range 50 {
		a := login(t, env, "a.admin", "wrong-password", "10.0.1."+strconv.Itoa(i))
		if i < limiter.DefaultUserBurst {
			wantProblem(t, "failure "+strconv.Itoa(i+1), a, http.StatusUnauthorized, "invalid_credentials")
			continue
		}
		wantProblem(t, "failure "+strconv.Itoa(i+1), a, http.StatusTooManyRequests, "too_many_requests")
		ra, err := strconv.Atoi(a.Header.Get("Retry-After"))
		if err != nil || ra < 1 || ra > int(limiter.DefaultUserEvery/time.Second) {
			t.Fatalf("Retry-After %q, want 1..%d seconds", a.Header.Get("Retry-After"), int(limiter.DefaultUserEvery/time.Second))
		}
	}
	// The right password is refused too while the bucket is empty…
	wantProblem(t, "right password while throttled", login(t, env, "a.admin", testenv.Password, "10.0.2.1"), http.StatusTooManyRequests, "too_many_requests")
	// …but the user is not locked out for ever: after the window, a login
	// from another address works.
	c.Advance(limiter.DefaultUserEvery * limiter.DefaultUserBurst)
	if a := login(t, env, "a.admin", testenv.Password, "10.0.2.2"); a.Status != http.StatusOK {
		t.Fatalf("after the window: %d %s", a.Status, a.Body)
	}
}

func TestLoginSuccessClearsUsername(t *testing.T) {
	env, _ := limitedEnv(t)
	for range limiter.DefaultUserBurst - 1 {
		wantProblem(t, "failure", login(t, env, "a.admin", "wrong-password", "10.0.3.1"), http.StatusUnauthorized, "invalid_credentials")
	}
	if a := login(t, env, "a.admin", testenv.Password, "10.0.3.1"); a.Status != http.StatusOK {
		t.Fatalf("login: %d %s", a.Status, a.Body)
	}
	for i := range limiter.DefaultUserBurst {
		wantProblem(t, "failure after success "+strconv.Itoa(i+1), login(t, env, "a.admin", "wrong-password", "10.0.3.1"), http.StatusUnauthorized, "invalid_credentials")
	}
	wantProblem(t, "one too many", login(t, env, "a.admin", "wrong-password", "10.0.3.1"), http.StatusTooManyRequests, "too_many_requests")
}

func TestLoginRateLimitPerAddress(t *testing.T) {
	env, c := limitedEnv(t)
	for i := range limiter.DefaultAddrBurst {
		wantProblem(t, "spray "+strconv.Itoa(i+1), login(t, env, "user"+strconv.Itoa(i), "wrong-password", "10.0.4.1"), http.StatusUnauthorized, "invalid_credentials")
	}
	wantProblem(t, "spray past the limit", login(t, env, "a.admin", testenv.Password, "10.0.4.1"), http.StatusTooManyRequests, "too_many_requests")
	if a := login(t, env, "a.admin", testenv.Password, "10.0.4.2"); a.Status != http.StatusOK {
		t.Fatalf("other address: %d %s", a.Status, a.Body)
	}
	c.Advance(time.Minute)
	if a := login(t, env, "a.admin", testenv.Password, "10.0.4.1"); a.Status != http.StatusOK {
		t.Fatalf("after a minute: %d %s", a.Status, a.Body)
	}
}

// TestForwardedForIgnoredByDefault: without --trust-proxy, X-Forwarded-For
// does not let a client pose as many addresses.
func TestForwardedForIgnoredByDefault(t *testing.T) {
	env := testenv.New(t, testenv.Options{Now: newClock().Now}) // pinned: no refill however slow the machine
	for i := range limiter.DefaultAddrBurst {
		send(t, env, "POST", "/api/v1/auth/login", "", map[string]string{"username": "u" + strconv.Itoa(i), "password": "wrong-password", "device_id": "d"},
			"X-Forwarded-For", "10.0.5."+strconv.Itoa(i))
	}
	a := send(t, env, "POST", "/api/v1/auth/login", "", map[string]string{"username": "other", "password": "wrong-password", "device_id": "d"},
		"X-Forwarded-For", "10.0.6.1")
	wantProblem(t, "spoofed address", a, http.StatusTooManyRequests, "too_many_requests")
}
