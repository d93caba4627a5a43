// Package testenv starts a real prodays API (real SQLite file in a
// temporary folder, real HTTP through httptest) for tests of every package,
// and gives them accounts and sessions.
package testenv

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"prodays/api"
	"prodays/auth"
	"prodays/export"
	"prodays/importer"
	"prodays/store"
	"prodays/sync/engine"
)

// Env is a running server and its database.
type Env struct {
	DB  *store.DB
	API *api.Server
	// Auth is the API's authentication service (New only).
	Auth   *auth.Service
	Echo   *echo.Echo // the handler, for its route table
	Server *httptest.Server
	URL    string
	// Proc is the server process of an Env made by Process (nil for New,
	// whose server runs in the test's own process).
	Proc *Proc

	// secrets are the device secrets (sync protocol 1.1, "Device
	// binding") that logins through Login were given, by device id, so
	// that the next Login of the same device, by any user, proves it as
	// the phone's installation would.
	mu      sync.Mutex
	secrets map[string]string
}

// DeviceSecret returns the device_secret Login keeps for deviceID ("" when
// none).
func (e *Env) DeviceSecret(deviceID string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.secrets[deviceID]
}

// SetDeviceSecret sets the device_secret that Login sends for deviceID
// ("" to send none, as a new installation would).
func (e *Env) SetDeviceSecret(deviceID, secret string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.secrets == nil {
		e.secrets = map[string]string{}
	}
	if secret == "" {
		delete(e.secrets, deviceID)
		return
	}
	e.secrets[deviceID] = secret
}

// Options tune New.
type Options struct {
	// AccessTTL of access tokens (default auth.DefaultAccessTTL).
	AccessTTL time.Duration
	// Configure is called on the api.Server before its handler is built.
	Configure func(*api.Server)
	// Now, when set, is the one clock of the database, the token issuer
	// and the API (a test pins and advances it).
	Now func() time.Time
	// Quiet logs warnings and errors only, to stderr: no line per request,
	// for benchmarks and load tests that print their own figures.
	Quiet bool
}

// TestKey is the fixed signing key of test servers.
var TestKey = []byte("prodays-test-signing-key-0123456789abcdef")

// New starts a server on a fresh database file; it is closed at the end of
// the test.
func New(tb testing.TB, opt Options) *Env {
	tb.Helper()
	db, err := store.Open(context.Background(), filepath.Join(tb.TempDir(), "prodays.db"), store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	keys, err := auth.NewKeyring(TestKey)
	if err != nil {
		tb.Fatal(err)
	}
	authSvc := &auth.Service{DB: db, Tokens: &auth.Tokens{Keys: keys, AccessTTL: opt.AccessTTL}}
	srv := Wire(tb, db, authSvc, nil)
	srv.InsecureCookies = true
	if opt.Now != nil {
		db.Now, srv.Now, authSvc.Tokens.Now = opt.Now, opt.Now, opt.Now
	}
	if opt.Quiet {
		srv.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if opt.Configure != nil {
		opt.Configure(srv)
	}
	h := srv.Handler()
	ts := httptest.NewServer(h)
	tb.Cleanup(func() {
		ts.Close()
		db.Close()
	})
	return &Env{DB: db, API: srv, Auth: authSvc, Echo: h, Server: ts, URL: ts.URL}
}

// Wire returns an API server on db with the services main builds
// (server/serve.go): the sync engine, the documents and the importer on
// db, and authSvc; logger (nil: slog.Default) goes to the server and the
// engine.
func Wire(tb testing.TB, db *store.DB, authSvc *auth.Service, logger *slog.Logger) *api.Server {
	tb.Helper()
	eng, err := engine.New(db)
	if err != nil {
		tb.Fatal(err)
	}
	eng.Logger = logger
	return &api.Server{DB: db, Logger: logger, Auth: authSvc, Sync: eng,
		Documents: export.Documents{DB: db}, Importer: importer.Service{DB: db}}
}

// Password is the password of every account CreateUser makes.
const Password = "test-password-123"

// hash is computed once: argon2id is deliberately slow.
var hash = func() string {
	h, err := auth.HashPassword(Password)
	if err != nil {
		panic(err)
	}
	return h
}()

// CreateUser inserts (or replaces) an account with password Password. For
// staff, est is the establishment and the region is taken from it; for
// supervisors, region is the region.
func CreateUser(tb testing.TB, db *store.DB, username, role, est, region string) {
	tb.Helper()
	now := store.FormatTime(time.Now())
	err := db.WithTx(context.Background(), func(tx *sql.Tx) error {
		if role == "staff" && region == "" {
			if err := tx.QueryRow(`SELECT region_code FROM establishments WHERE code = ?`, est).Scan(&region); err != nil {
				return fmt.Errorf("establishment %s: %w", est, err)
			}
		}
		_, err := tx.Exec(`INSERT INTO users (username, full_name, role, establishment_code, region_code, password_hash, created_at, updated_at)
			VALUES (?, ?, ?, NULLIF(?, ''), NULLIF(?, ''), ?, ?, ?)
			ON CONFLICT (username) DO UPDATE SET role = excluded.role, establishment_code = excluded.establishment_code,
			region_code = excluded.region_code, password_hash = excluded.password_hash, disabled = 0`,
			username, username, role, est, region, hash, now, now)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// SetPasswords gives the existing accounts usernames the password
// Password (an imported users.csv carries none).
func SetPasswords(tb testing.TB, db *store.DB, usernames ...string) {
	tb.Helper()
	for _, u := range usernames {
		if err := db.SetPassword(context.Background(), u, hash, "test"); err != nil {
			tb.Fatalf("password of %s: %v", u, err)
		}
	}
}

// Session is a logged-in client of one device.
type Session struct {
	Env          *Env
	Username     string
	DeviceID     string
	AccessToken  string
	RefreshToken string
}

// NewAdmin starts New(tb, opt) with one admin account, "a.admin"
// (password Password), logged in from deviceID: the preamble of the tests
// that act as an admin.
func NewAdmin(tb testing.TB, opt Options, deviceID string) (*Env, *Session) {
	tb.Helper()
	env := New(tb, opt)
	CreateUser(tb, env.DB, "a.admin", "admin", "", "")
	return env, env.Login(tb, "a.admin", deviceID)
}

// Login logs username in from deviceID (the refresh token is delivered in
// the body). It sends the device_secret an earlier Login of deviceID was
// given (SetDeviceSecret), and keeps the one the answer carries: as on one
// phone, any user may log in again from the same device id.
func (e *Env) Login(tb testing.TB, username, deviceID string) *Session {
	tb.Helper()
	var out struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		DeviceSecret string `json:"device_secret"`
		Code         string `json:"code"`
	}
	body := map[string]string{"username": username, "password": Password, "device_id": deviceID, "token_delivery": "body"}
	if secret := e.DeviceSecret(deviceID); secret != "" {
		body["device_secret"] = secret
	}
	status := e.Do(tb, "POST", "/api/v1/auth/login", "", body, &out)
	if status != http.StatusOK {
		tb.Fatalf("login %s: status %d %s", username, status, out.Code)
	}
	if out.DeviceSecret != "" {
		e.SetDeviceSecret(deviceID, out.DeviceSecret)
	}
	return &Session{Env: e, Username: username, DeviceID: deviceID, AccessToken: out.AccessToken, RefreshToken: out.RefreshToken}
}

// Do sends a JSON request (body nil for none) with an optional bearer
// token, decodes a JSON answer into out (when not nil) and returns the
// status.
func (e *Env) Do(tb testing.TB, method, path, token string, body, out any) int {
	tb.Helper()
	a := e.Send(tb, method, path, token, body)
	if out != nil && len(a.Body) > 0 {
		if err := json.Unmarshal(a.Body, out); err != nil {
			tb.Fatalf("%s %s: decode %q: %v", method, path, a.Body, err)
		}
	}
	return a.Status
}

// Send sends a request with a JSON body (nil for none), a bearer token
// ("" for none) and extra headers (name, value pairs), and returns the
// answer read whole.
func (e *Env) Send(tb testing.TB, method, path, token string, body any, headers ...string) Answer {
	tb.Helper()
	var b []byte
	ctype := ""
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			tb.Fatal(err)
		}
		ctype = "application/json"
	}
	return e.Raw(tb, method, path, token, ctype, b, headers...)
}

// Answer is an HTTP answer read whole.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// Raw sends body (nil for none) as method path, with Content-Type ctype
// ("" for none), a bearer token ("" for none) and extra headers (name,
// value pairs), and returns the answer read whole. A failed round trip
// fails tb.
func (e *Env) Raw(tb testing.TB, method, path, token, ctype string, body []byte, headers ...string) Answer {
	tb.Helper()
	var r io.Reader = http.NoBody
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, e.URL+path, r)
	if err != nil {
		tb.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return Answer{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// Do sends a request as this session.
func (s *Session) Do(tb testing.TB, method, path string, body, out any) int {
	tb.Helper()
	return s.Env.Do(tb, method, path, s.AccessToken, body, out)
}
