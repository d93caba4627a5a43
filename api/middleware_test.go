package api_test

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"prodays/api"
	"prodays/internal/testenv"
)

// withTestRoutes starts a second handler of env's server with routes that
// exist only in tests (a panic, an echo of the client address, a body
// reader), and returns its URL.
func withTestRoutes(t *testing.T, env *testenv.Env) string {
	t.Helper()
	e := env.API.Handler()
	e.GET("/api/v1/test/panic", func(c echo.Context) error { panic("secret internals: db password hunter2") })
	e.GET("/api/v1/test/ip", func(c echo.Context) error { return c.String(http.StatusOK, c.RealIP()) })
	e.POST("/api/v1/test/read", func(c echo.Context) error {
		b, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return err
		}
		return c.String(http.StatusOK, http.StatusText(len(b)%1)+string(rune('0'+len(b)%10)))
	})
	ts := httptest.NewServer(e)
	t.Cleanup(ts.Close)
	return ts.URL
}

func problem(t *testing.T, resp *http.Response) map[string]any {
	t.Helper()
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != api.ProblemContentType {
		t.Fatalf("content type %q, want problem+json", ct)
	}
	var p map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPanicBecomes500(t *testing.T) {
	logs := &testenv.LogBuffer{}
	env := testenv.New(t, testenv.Options{Configure: func(s *api.Server) { s.Logger = slog.New(slog.NewJSONHandler(logs, nil)) }})
	url := withTestRoutes(t, env)
	resp, err := http.Get(url + "/api/v1/test/panic")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if resp.StatusCode != 500 || strings.Contains(string(body), "hunter2") || strings.Contains(string(body), "panic") {
		t.Fatalf("panic answer: %d %s", resp.StatusCode, body)
	}
	if p := problem(t, resp); p["code"] != "internal" {
		t.Fatalf("code %v", p["code"])
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatal("security headers missing on a panic")
	}
	id := resp.Header.Get("X-Request-ID")
	var sawPanic, sawAccess bool
	for _, l := range logs.Lines(t) {
		if l["request_id"] != id {
			continue
		}
		if l["msg"] == "panic" && strings.Contains(l["panic"].(string), "hunter2") && l["stack"] != nil {
			sawPanic = true
		}
		if l["msg"] == "request" && l["status"] == float64(500) {
			sawAccess = true
		}
	}
	if !sawPanic || !sawAccess {
		t.Fatalf("panic logged %v, access line with 500 %v", sawPanic, sawAccess)
	}
	// Still up.
	if resp, err := http.Get(url + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("after panic: %v %v", resp, err)
	}
}

func TestSecurityHeadersEveryAnswer(t *testing.T) {
	_, trusted, _ := net.ParseCIDR("127.0.0.0/8")
	for _, tc := range []struct {
		name      string
		configure func(*api.Server)
		path      string
		header    map[string]string
		hsts, csp bool
	}{
		{"plain api", nil, "/api/v1/auth/me", nil, false, true},
		{"plain health", nil, "/healthz", nil, false, false},
		{"forwarded https from untrusted peer", nil, "/healthz", map[string]string{"X-Forwarded-Proto": "https"}, false, false},
		{"forwarded https from trusted proxy", func(s *api.Server) { s.TrustedProxies = []*net.IPNet{trusted} }, "/api/v1/auth/me", map[string]string{"X-Forwarded-Proto": "https"}, true, true},
		{"direct tls", func(s *api.Server) { s.TLS = true }, "/healthz", nil, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := testenv.New(t, testenv.Options{Configure: tc.configure})
			req, _ := http.NewRequest("GET", env.URL+tc.path, nil)
			req.Header.Set("Origin", "https://evil.example")
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			h := resp.Header
			for k, want := range map[string]string{
				"X-Content-Type-Options":     "nosniff",
				"Referrer-Policy":            "no-referrer",
				"X-Frame-Options":            "DENY",
				"Permissions-Policy":         "camera=(self)",
				"Cross-Origin-Opener-Policy": "same-origin",
			} {
				if got := h.Get(k); got != want {
					t.Errorf("%s: got %q, want %q", k, got, want)
				}
			}
			if got := h.Get("Strict-Transport-Security") != ""; got != tc.hsts {
				t.Errorf("HSTS: got %v, want %v", got, tc.hsts)
			}
			if got := h.Get("Content-Security-Policy"); (got == api.APIContentSecurityPolicy) != tc.csp || (!tc.csp && got != "") {
				t.Errorf("CSP: got %q, want set %v", got, tc.csp)
			}
			if h.Get("Access-Control-Allow-Origin") != "" {
				t.Error("CORS header present")
			}
			if h.Get("X-Request-ID") == "" {
				t.Error("no X-Request-ID")
			}
		})
	}
}

func TestCORSPreflightRefused(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	for _, path := range []string{"/api/v1/auth/login", "/api/v1/nowhere", "/healthz"} {
		req, _ := http.NewRequest("OPTIONS", env.URL+path, nil)
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("%s: %d %v", path, resp.StatusCode, resp.Header)
		}
		if p := problem(t, resp); p["code"] != "method_not_allowed" {
			t.Fatalf("%s: %v", path, p)
		}
	}
}

func TestBodyCap(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	url := withTestRoutes(t, env)
	for _, tc := range []struct {
		name    string
		path    string
		size    int
		chunked bool
		want    int
	}{
		{"default cap, small", "/api/v1/test/read", 1000, false, 200},
		{"default cap, at the limit", "/api/v1/test/read", api.DefaultMaxBodyBytes, false, 200},
		{"default cap, over (declared)", "/api/v1/test/read", api.DefaultMaxBodyBytes + 1, false, 413},
		{"default cap, over (chunked)", "/api/v1/test/read", api.DefaultMaxBodyBytes + 1, true, 413},
		{"json route, over", "/api/v1/auth/login", 2 << 20, false, 413},
		{"json route, over (chunked)", "/api/v1/auth/login", 2 << 20, true, 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader = bytes.NewReader(bytes.Repeat([]byte(" "), tc.size))
			if tc.chunked {
				body = io.MultiReader(body) // unknown length: sent chunked
			}
			req, _ := http.NewRequest("POST", url+tc.path, body)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.want {
				b, _ := io.ReadAll(resp.Body)
				t.Fatalf("got %d %s, want %d", resp.StatusCode, b, tc.want)
			}
			if tc.want == 413 {
				if p := problem(t, resp); p["code"] != "too_large" {
					t.Fatalf("code %v", p["code"])
				}
			} else {
				resp.Body.Close()
			}
		})
	}
}

func TestAccessLog(t *testing.T) {
	logs := &testenv.LogBuffer{}
	env, s := testenv.NewAdmin(t, testenv.Options{Configure: func(s *api.Server) { s.Logger = slog.New(slog.NewJSONHandler(logs, nil)) }}, "dev-log")
	req, _ := http.NewRequest("GET", env.URL+"/api/v1/auth/me", nil)
	req.Header.Set("Authorization", "Bearer "+s.AccessToken)
	req.Header.Set("X-Request-ID", "proxy-id-123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("X-Request-ID") != "proxy-id-123" {
		t.Fatalf("request id not carried: %q", resp.Header.Get("X-Request-ID"))
	}
	// A hostile id is replaced.
	req, _ = http.NewRequest("GET", env.URL+"/healthz", nil)
	req.Header.Set("X-Request-ID", "evil\" id <script>")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if id := resp.Header.Get("X-Request-ID"); strings.Contains(id, "evil") || len(id) != 16 {
		t.Fatalf("hostile request id kept: %q", id)
	}
	var line map[string]any
	for _, l := range logs.Lines(t) {
		if l["msg"] == "request" && l["request_id"] == "proxy-id-123" {
			line = l
		}
	}
	if line == nil {
		t.Fatal("no access line for the request")
	}
	for k, want := range map[string]any{"method": "GET", "route": "/api/v1/auth/me", "status": float64(200), "user": "a.admin", "device_id": "dev-log"} {
		if line[k] != want {
			t.Errorf("%s: got %v, want %v", k, line[k], want)
		}
	}
	if _, ok := line["duration_ms"].(float64); !ok {
		t.Error("no duration_ms")
	}
	if b, ok := line["bytes"].(float64); !ok || b <= 0 {
		t.Errorf("bytes: %v", line["bytes"])
	}
}

func TestMetricsEndpoint(t *testing.T) {
	const scrape = "a-scrape-token-of-some-length"
	env := testenv.New(t, testenv.Options{Configure: func(s *api.Server) { s.MetricsToken = scrape }})
	testenv.CreateUser(t, env.DB, "a.admin", "admin", "", "")
	testenv.CreateUser(t, env.DB, "s.super", "supervisor", "", "CS")
	admin := env.Login(t, "a.admin", "d1")
	super := env.Login(t, "s.super", "d2")
	get := func(token string, header map[string]string) (int, string) {
		req, _ := http.NewRequest("GET", env.URL+"/metrics", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, _ := get("", nil); st != 401 {
		t.Errorf("loopback without token: %d, want 401", st)
	}
	st, body := get(scrape, nil)
	if st != 200 {
		t.Fatalf("scrape token: %d %s", st, body)
	}
	for _, name := range []string{
		"prodays_http_requests_total", "prodays_http_request_duration_seconds_bucket",
		"prodays_db_file_bytes", "prodays_db_wal_bytes", "prodays_backup_age_seconds",
		"prodays_devices_seen_last_hour", "prodays_flags_open", "prodays_quarantine_mutations",
		"prodays_sync_mutations_total", "prodays_sync_pull_pages_total", "prodays_sync_pull_bytes_total",
		"go_goroutines", "process_cpu_seconds_total", "prodays_http_writes_running", "prodays_http_writes_waiting", "prodays_http_write_bodies_bytes",
	} {
		if !strings.Contains(body, name) {
			t.Errorf("scrape lacks %s", name)
		}
	}
	if !strings.Contains(body, `route="/api/v1/auth/login",status="200"`) {
		t.Error("login request not counted")
	}
	if st, _ := get("", map[string]string{"X-Forwarded-For": "203.0.113.9"}); st != 401 {
		t.Errorf("through a proxy without token: %d, want 401", st)
	}
	if st, _ := get(scrape+"x", nil); st != 401 {
		t.Errorf("wrong scrape token: %d, want 401", st)
	}
	if st, _ := get(scrape, map[string]string{"X-Forwarded-For": "203.0.113.9"}); st != 200 {
		t.Errorf("scrape token through a proxy: %d, want 200", st)
	}
	if st, _ := get(super.AccessToken, map[string]string{"X-Forwarded-For": "203.0.113.9"}); st != 403 {
		t.Errorf("supervisor token: %d, want 403", st)
	}
	if st, _ := get("garbage", map[string]string{"X-Forwarded-For": "203.0.113.9"}); st != 401 {
		t.Errorf("bad token: %d, want 401", st)
	}
	if st, _ := get(admin.AccessToken, map[string]string{"X-Forwarded-For": "203.0.113.9"}); st != 200 {
		t.Errorf("admin token: %d, want 200", st)
	}
	pub := testenv.New(t, testenv.Options{Configure: func(s *api.Server) { s.MetricsPublic = true }})
	req, _ := http.NewRequest("GET", pub.URL+"/metrics", nil)
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("public metrics: %v %v", resp, err)
	}
	resp.Body.Close()
}

func TestTrustedProxies(t *testing.T) {
	_, loop, _ := net.ParseCIDR("127.0.0.1/32")
	for _, tc := range []struct {
		name    string
		proxies []*net.IPNet
		want    string
	}{
		{"none trusted: peer address", nil, "127.0.0.1"},
		{"loopback trusted: forwarded address", []*net.IPNet{loop}, "203.0.113.9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := testenv.New(t, testenv.Options{Configure: func(s *api.Server) { s.TrustedProxies = tc.proxies }})
			url := withTestRoutes(t, env)
			req, _ := http.NewRequest("GET", url+"/api/v1/test/ip", nil)
			req.Header.Set("X-Forwarded-For", "203.0.113.9")
			req.Header.Set("X-Real-IP", "198.51.100.7")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != tc.want {
				t.Fatalf("RealIP: got %q, want %q", b, tc.want)
			}
		})
	}
}

// TestTLSHSTS serves over TLS (httptest's self-signed certificate): HSTS
// is set because the request came over TLS.
func TestTLSHSTS(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	ts := httptest.NewTLSServer(env.API.Handler())
	defer ts.Close()
	c := ts.Client()
	c.Transport.(*http.Transport).TLSClientConfig.MinVersion = tls.VersionTLS12
	resp, err := c.Get(ts.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Strict-Transport-Security") != api.HSTS {
		t.Fatalf("HSTS over TLS: %q", resp.Header.Get("Strict-Transport-Security"))
	}
}
