package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"

	"prodays/internal/dbtest"
	"prodays/internal/synctest"
	"prodays/internal/testenv"
	"prodays/store"
	"prodays/sync/protocol"
)

// Device binding (sync protocol 1.1; issue #13, finding 2), against the
// real server process.

// bindingEnv is a server process on the synctest roster with two staff
// members of E1 who can log in (a and b share a phone in one case).
func bindingEnv(t *testing.T, seed func(tb testing.TB, db *store.DB)) *testenv.Env {
	t.Helper()
	return testenv.Process(t, testenv.ProcessOptions{Seed: func(tb testing.TB, db *store.DB) {
		synctest.Seed(tb, db)
		testenv.CreateUser(tb, db, "staff1", "staff", "E1", "RSK")
		testenv.CreateUser(tb, db, "staff1b", "staff", "E1", "RSK")
		testenv.CreateUser(tb, db, "admin", "admin", "", "")
		testenv.CreateUser(tb, db, "sup1", "supervisor", "", "RSK")
		if seed != nil {
			seed(tb, db)
		}
	}})
}

// loginAnswer is what a raw login returns: the session or the problem.
type loginAnswer struct {
	Status       int
	Code         string `json:"code"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	DeviceSecret string `json:"device_secret"`
}

// rawLogin logs username in from device, with secret when not empty (no
// memory of earlier answers, unlike testenv.Env.Login).
func rawLogin(t *testing.T, env *testenv.Env, username, device, secret string) loginAnswer {
	t.Helper()
	body := map[string]string{"username": username, "password": testenv.Password, "device_id": device, "token_delivery": "body"}
	if secret != "" {
		body["device_secret"] = secret
	}
	var a loginAnswer
	a.Status = env.Do(t, "POST", "/api/v1/auth/login", "", body, &a)
	return a
}

// pushAs pushes ms from device with token and returns the results.
func pushAs(t *testing.T, env *testenv.Env, token, device string, ms ...protocol.Mutation) (int, []protocol.Result) {
	t.Helper()
	var resp protocol.PushResponse
	st := env.Do(t, "POST", "/api/v1/sync/push", token, json.RawMessage(synctest.Body(device, time.Now(), len(ms), ms...)), &resp)
	return st, resp.Results
}

func wantApplied(t *testing.T, what string, st int, rs []protocol.Result, n int) {
	t.Helper()
	if st != http.StatusOK || len(rs) != n {
		t.Fatalf("%s: status %d, %d results, want 200 and %d", what, st, len(rs), n)
	}
	for _, r := range rs {
		if r.Status != protocol.StatusApplied {
			t.Fatalf("%s: result %+v, want applied", what, r)
		}
	}
}

// deviceRow is every column of the device's row, as JSON.
func deviceRow(t *testing.T, env *testenv.Env, device string) string {
	t.Helper()
	rows, err := env.DB.Read.Query(`SELECT * FROM devices WHERE id = ?`, device)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if !rows.Next() {
		t.Fatalf("no device %s", device)
	}
	if err := rows.Scan(ptrs...); err != nil {
		t.Fatal(err)
	}
	row := map[string]any{}
	for i, c := range cols {
		row[c] = vals[i]
	}
	b, _ := json.Marshal(row)
	return string(b)
}

func countRows(t *testing.T, env *testenv.Env, q string, args ...any) int {
	t.Helper()
	return dbtest.Value[int](t, env.DB, q, args...)
}

// TestDeviceTakeoverRefused: user B logs in with user A's device id from
// another installation (no secret, a wrong one): 403 device_taken, and
// the device keeps its user, tokens and seqs: A's token still works and
// A's next pushes are applied (before 1.1, B took the device over, A got
// 401 and A's next pushes came back seq_reused).
func TestDeviceTakeoverRefused(t *testing.T) {
	env := bindingEnv(t, nil)
	const dev = "0193a7c0-0000-7000-8000-00000000a001"
	a := rawLogin(t, env, "staff1", dev, "")
	if a.Status != http.StatusOK {
		t.Fatalf("A's first login: status %d %s", a.Status, a.Code)
	}
	phone := synctest.NewPhone(dev, time.Now().Add(-time.Minute))
	st, rs := pushAs(t, env, a.AccessToken, dev, phone.Register("E1", "Alpha", "Un"))
	wantApplied(t, "A's first push", st, rs, 1)

	before := deviceRow(t, env, dev)
	tokens := countRows(t, env, `SELECT count(*) FROM refresh_tokens WHERE device_id = ?`, dev)
	for _, secret := range []string{"", "wrong-secret-0123456789abcdef", a.DeviceSecret + "x"} {
		b := rawLogin(t, env, "staff1b", dev, secret)
		if b.Status != http.StatusForbidden || b.Code != "device_taken" {
			t.Fatalf("B's login with A's device id (secret %q): status %d code %q, want 403 device_taken", secret, b.Status, b.Code)
		}
		if b.AccessToken != "" {
			t.Fatal("a refused login carries a token")
		}
	}
	// The same user from another installation is refused too.
	if got := rawLogin(t, env, "staff1", dev, ""); got.Status != http.StatusForbidden || got.Code != "device_taken" {
		t.Fatalf("A's user without the secret: status %d code %q, want 403 device_taken", got.Status, got.Code)
	}
	if after := deviceRow(t, env, dev); after != before {
		t.Fatalf("a refused login changed the device:\nbefore %s\nafter  %s", before, after)
	}
	if n := countRows(t, env, `SELECT count(*) FROM refresh_tokens WHERE device_id = ?`, dev); n != tokens {
		t.Fatalf("refresh tokens of the device: %d, want %d", n, tokens)
	}
	if n := countRows(t, env, `SELECT count(*) FROM audit_log WHERE action = 'auth.login_failed' AND device_id = ? AND detail LIKE '%device_taken%'`, dev); n != 4 {
		t.Errorf("audit entries of the refused logins: %d, want 4", n)
	}

	// A's token still works; A's next pushes are applied, not seq_reused.
	if st := env.Do(t, "GET", "/api/v1/auth/me", a.AccessToken, nil, nil); st != http.StatusOK {
		t.Fatalf("A's token after the refused logins: status %d, want 200", st)
	}
	st, rs = pushAs(t, env, a.AccessToken, dev, phone.Register("E1", "Alpha", "Deux"), phone.Register("E1", "Alpha", "Trois"))
	wantApplied(t, "A's next push", st, rs, 2)
	var r map[string]any
	if st := env.Do(t, "POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": a.RefreshToken}, &r); st != http.StatusOK {
		t.Fatalf("A's refresh: status %d %v", st, r)
	}

	// A supervisor's upload of the phone's saved outbox file is not a
	// login: it needs no device secret, and it goes on with the device's
	// seqs, on behalf of its owner.
	sup := env.Login(t, "sup1", "0193a7c0-0000-7000-8000-00000000d001")
	var up struct {
		Username string            `json:"username"`
		Results  []protocol.Result `json:"results"`
	}
	st = env.Do(t, "POST", "/api/v1/review/outbox-upload", sup.AccessToken,
		json.RawMessage(synctest.Body(dev, time.Now(), 1, phone.Register("E1", "Alpha", "Quatre"))), &up)
	wantApplied(t, "outbox upload", st, up.Results, 1)
	if up.Username != "staff1" {
		t.Errorf("outbox upload on behalf of %q, want staff1", up.Username)
	}

	// A push for another device than the token's: device_mismatch.
	var prob map[string]any
	st = env.Do(t, "POST", "/api/v1/sync/push", a.AccessToken, json.RawMessage(synctest.Body("0193a7c0-0000-7000-8000-00000000b002", time.Now(), 0)), &prob)
	if st != http.StatusForbidden || prob["code"] != "device_mismatch" {
		t.Fatalf("push for another device: status %d %v, want 403 device_mismatch", st, prob)
	}
}

// TestDeviceSharedPhone: on one installation, A logs out and B logs in
// with the device's secret: it works, and the seq counter goes on.
func TestDeviceSharedPhone(t *testing.T) {
	env := bindingEnv(t, nil)
	const dev = "0193a7c0-0000-7000-8000-00000000a002"
	a := rawLogin(t, env, "staff1", dev, "")
	if a.Status != http.StatusOK || len(a.DeviceSecret) < 22 {
		t.Fatalf("first login: status %d, device_secret %q (want 200 and a secret of at least 128 bits)", a.Status, a.DeviceSecret)
	}
	phone := synctest.NewPhone(dev, time.Now().Add(-time.Minute))
	st, rs := pushAs(t, env, a.AccessToken, dev, phone.Register("E1", "Beta", "Un"), phone.Register("E1", "Beta", "Deux"))
	wantApplied(t, "A's push", st, rs, 2)
	if st := env.Do(t, "POST", "/api/v1/auth/logout", a.AccessToken, map[string]string{"refresh_token": a.RefreshToken}, nil); st != http.StatusNoContent {
		t.Fatalf("logout: status %d", st)
	}

	b := rawLogin(t, env, "staff1b", dev, a.DeviceSecret)
	if b.Status != http.StatusOK {
		t.Fatalf("B on the shared phone with its secret: status %d %s", b.Status, b.Code)
	}
	if b.DeviceSecret != "" {
		t.Errorf("a login with the device's secret got a new one")
	}
	st, rs = pushAs(t, env, b.AccessToken, dev, phone.Register("E1", "Beta", "Trois"))
	wantApplied(t, "B's push (seq 3)", st, rs, 1)
	var owner string
	var maxSeq int64
	if err := env.DB.Read.QueryRow(`SELECT username, max_seq FROM devices WHERE id = ?`, dev).Scan(&owner, &maxSeq); err != nil {
		t.Fatal(err)
	}
	if owner != "staff1b" || maxSeq != 3 {
		t.Fatalf("device after B's push: user %s max_seq %d, want staff1b 3", owner, maxSeq)
	}
	// And back to A, through testenv's Login, which keeps the secret.
	if st := env.Do(t, "POST", "/api/v1/auth/logout", b.AccessToken, map[string]string{"refresh_token": b.RefreshToken}, nil); st != http.StatusNoContent {
		t.Fatalf("logout: status %d", st)
	}
	a2 := rawLogin(t, env, "staff1", dev, a.DeviceSecret)
	if a2.Status != http.StatusOK {
		t.Fatalf("A again: status %d %s", a2.Status, a2.Code)
	}
	st, rs = pushAs(t, env, a2.AccessToken, dev, phone.Register("E1", "Beta", "Quatre"))
	wantApplied(t, "A's push (seq 4)", st, rs, 1)
}

// TestDeviceBindingUpgrade: a device registered before 1.1 (no secret
// stored) gets one at its next login; a device unknown to a restored
// server is registered with the secret the login carries; a revoked
// device stays revoked.
func TestDeviceBindingUpgrade(t *testing.T) {
	const legacy = "0193a7c0-0000-7000-8000-00000000c001"
	const revoked = "0193a7c0-0000-7000-8000-00000000c002"
	env := bindingEnv(t, func(tb testing.TB, db *store.DB) {
		now := store.FormatTime(time.Now())
		for _, q := range []string{
			`INSERT INTO devices (id, username, first_seen_at, last_seen_at, max_seq) VALUES ('` + legacy + `', 'staff1', '` + now + `', '` + now + `', 5)`,
			`INSERT INTO devices (id, username, first_seen_at, last_seen_at, revoked_at, revoked_by) VALUES ('` + revoked + `', 'staff1', '` + now + `', '` + now + `', '` + now + `', 'admin')`,
		} {
			if _, err := db.Write.Exec(q); err != nil {
				tb.Fatal(err)
			}
		}
	})
	a := rawLogin(t, env, "staff1", legacy, "")
	if a.Status != http.StatusOK || len(a.DeviceSecret) < 22 {
		t.Fatalf("first login after the upgrade: status %d %s, device_secret %q (want 200 and a new secret)", a.Status, a.Code, a.DeviceSecret)
	}
	if got := rawLogin(t, env, "staff1", legacy, ""); got.Status != http.StatusForbidden || got.Code != "device_taken" {
		t.Fatalf("second login without the secret: status %d %s, want 403 device_taken", got.Status, got.Code)
	}
	if got := rawLogin(t, env, "staff1b", legacy, a.DeviceSecret); got.Status != http.StatusOK || got.DeviceSecret != "" {
		t.Fatalf("login with the secret: status %d %s, device_secret %q", got.Status, got.Code, got.DeviceSecret)
	}

	// A server restored from before the device's first login learns the
	// secret the login carries.
	const restored = "0193a7c0-0000-7000-8000-00000000c003"
	const secret = "phone-made-secret-AAAAAAAAAAAAAAAAAAAAAAAAA"
	if got := rawLogin(t, env, "staff1", restored, secret); got.Status != http.StatusOK || got.DeviceSecret != "" {
		t.Fatalf("unknown device with a secret: status %d %s, device_secret %q (want 200, none)", got.Status, got.Code, got.DeviceSecret)
	}
	if got := rawLogin(t, env, "staff1", restored, "another-secret-BBBBBBBBBBBBBBBBBBBBBBBB"); got.Status != http.StatusForbidden {
		t.Fatalf("restored device, other secret: status %d, want 403", got.Status)
	}
	if got := rawLogin(t, env, "staff1", restored, secret); got.Status != http.StatusOK {
		t.Fatalf("restored device, its secret: status %d %s", got.Status, got.Code)
	}

	// A revoked device stays revoked, and a refused login changes nothing.
	before := deviceRow(t, env, revoked)
	for _, s := range []string{"", "some-secret-CCCCCCCCCCCCCCCCCCCCCCCCC"} {
		if got := rawLogin(t, env, "staff1", revoked, s); got.Status == http.StatusOK {
			t.Fatalf("revoked device (secret %q): status 200", s)
		}
	}
	if after := deviceRow(t, env, revoked); after != before {
		t.Fatalf("a refused login changed the revoked device:\nbefore %s\nafter  %s", before, after)
	}
}

// TestDeviceBindingAgainstOpenAPI: the login requests and answers of
// device binding (device_secret both ways, 403 device_taken) match
// api/openapi.json.
func TestDeviceBindingAgainstOpenAPI(t *testing.T) {
	env := syncEnv(t)
	o := loadOAS(t, env.URL)
	login := func(secret string) (int, loginAnswer) {
		t.Helper()
		body := map[string]string{"username": "staff1", "password": testenv.Password, "device_id": "dev-oas", "token_delivery": "body"}
		if secret != "" {
			body["device_secret"] = secret
		}
		b, _ := json.Marshal(body)
		req := newReq(t, "POST", env.URL+"/api/v1/auth/login", "", b, false)
		route, params, err := o.router.FindRoute(req)
		if err != nil {
			t.Fatal(err)
		}
		err = openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route})
		if wantValid := len(secret) == 0 || len(secret) >= 22; (err == nil) != wantValid {
			t.Errorf("login request (secret %q) against openapi.json: %v, want valid=%v", secret, err, wantValid)
		}
		st, raw, _ := o.do(t, newReq(t, "POST", env.URL+"/api/v1/auth/login", "", b, false))
		var a loginAnswer
		json.Unmarshal(raw, &a)
		return st, a
	}
	st, first := login("")
	if st != http.StatusOK || first.DeviceSecret == "" {
		t.Fatalf("first login: %d, device_secret %q", st, first.DeviceSecret)
	}
	if st, a := login(first.DeviceSecret); st != http.StatusOK || a.DeviceSecret != "" {
		t.Fatalf("login with the secret: %d %+v", st, a)
	}
	if st, a := login(""); st != http.StatusForbidden || a.Code != "device_taken" {
		t.Fatalf("login without the secret: %d %+v", st, a)
	}
	if st, a := login("short"); st != http.StatusBadRequest || a.Code != "invalid" {
		t.Fatalf("login with a short secret: %d %+v", st, a)
	}
}
