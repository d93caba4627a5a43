package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"prodays/api"
	"prodays/internal/dbtest"
	"prodays/internal/synctest"
	"prodays/internal/testenv"
	"prodays/sync/engine"
	"prodays/sync/protocol"
)

var eventNow = time.Date(2026, 3, 23, 10, 0, 0, 0, time.UTC)

// syncEnv starts a server with the seeded roster and a pinned clock.
func syncEnv(t *testing.T) *testenv.Env {
	t.Helper()
	env := testenv.New(t, testenv.Options{})
	synctest.Seed(t, env.DB)
	for _, u := range [][4]string{{"staff1", "staff", "E1", ""}, {"staff3", "staff", "E3", ""}, {"sup1", "supervisor", "", "RSK"}, {"admin", "admin", "", ""}} {
		testenv.CreateUser(t, env.DB, u[0], u[1], u[2], u[3])
	}
	env.DB.Now = func() time.Time { return eventNow }
	return env
}

// syncPush pushes ms from device dev with token at eventNow (outbox size
// len(ms)) and returns the push response; it fails t unless the answer is
// 200.
func syncPush(t *testing.T, env *testenv.Env, token, dev string, ms ...protocol.Mutation) protocol.PushResponse {
	t.Helper()
	a := send(t, env, "POST", "/api/v1/sync/push", token, json.RawMessage(synctest.Body(dev, eventNow, len(ms), ms...)))
	var pr protocol.PushResponse
	if err := json.Unmarshal(a.Body, &pr); a.Status != 200 || err != nil {
		t.Fatalf("push: %d %s", a.Status, a.Body)
	}
	return pr
}

// decideItem posts s's decision verb on the review item what/id (for
// example flags, 3, reject) with reason; it fails t unless the answer is
// 204.
func decideItem(t *testing.T, env *testenv.Env, s *testenv.Session, what string, id int64, verb, reason string) {
	t.Helper()
	path := "/api/v1/review/" + what + "/" + itoa(id) + "/" + verb
	if a := send(t, env, "POST", path, s.AccessToken, map[string]string{"reason": reason}); a.Status != 204 {
		t.Fatalf("%s: %d %s", verb, a.Status, a.Body)
	}
}

// oas validates real responses against api/openapi.json.
type oas struct {
	doc    *openapi3.T
	router routers.Router
}

func loadOAS(t *testing.T, base string) *oas {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json is invalid: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: base}}
	r, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &oas{doc: doc, router: r}
}

// do sends a raw request and validates the response against the document.
func (o *oas) do(t *testing.T, req *http.Request) (int, []byte, http.Header) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	route, params, err := o.router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s: no route in openapi.json: %v", req.Method, req.URL.Path, err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status: resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s %s %d: response does not match openapi.json: %v\n%s", req.Method, req.URL.Path, resp.StatusCode, err, body)
	}
	return resp.StatusCode, body, resp.Header
}

func newReq(t *testing.T, method, url, token string, body []byte, gz bool) *http.Request {
	t.Helper()
	var r io.Reader
	header := http.Header{}
	if body != nil {
		header.Set("Content-Type", "application/json")
		if gz {
			body = gzipped(body)
			header.Set("Content-Encoding", "gzip")
		}
		r = bytes.NewReader(body)
	}
	if token != "" {
		header.Set("Authorization", "Bearer "+token)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	return req
}

func TestPushPullHTTPAgainstOpenAPI(t *testing.T) {
	env := syncEnv(t)
	o := loadOAS(t, env.URL)
	s := env.Login(t, "staff1", "dev-http")
	ph := synctest.NewPhone("dev-http", eventNow.Add(-time.Hour))
	c1 := ph.CheckIn("A1", "trainee", synctest.TraineesE1[0])
	body := synctest.Body("dev-http", eventNow, 3, c1, ph.CheckIn("B1", "trainee", synctest.TraineesE3[0]), ph.CheckIn("Z9", "speaker", "S1"))
	st, b, _ := o.do(t, newReq(t, "POST", env.URL+"/api/v1/sync/push", s.AccessToken, body, true))
	var pr protocol.PushResponse
	json.Unmarshal(b, &pr)
	if st != 200 || len(pr.Results) != 3 || pr.Results[0].Status != "applied" || pr.Results[1].Code != "out_of_scope" || pr.Results[2].Code != "unknown_activity" {
		t.Fatalf("push: %d %s", st, b)
	}
	// The same batch again: duplicates with their first outcome.
	st, b, _ = o.do(t, newReq(t, "POST", env.URL+"/api/v1/sync/push", s.AccessToken, body, false))
	json.Unmarshal(b, &pr)
	if st != 200 || pr.Results[0].Status != "duplicate" || pr.Results[0].Outcome != "applied" || pr.Results[1].Outcome != "rejected" {
		t.Fatalf("retry: %d %s", st, b)
	}
	// Errors: device mismatch, too many mutations, bad JSON, no token.
	st, b, _ = o.do(t, newReq(t, "POST", env.URL+"/api/v1/sync/push", s.AccessToken, synctest.Body("other-device", eventNow, 0), false))
	if st != 403 || !strings.Contains(string(b), `"device_mismatch"`) {
		t.Fatalf("device mismatch: %d %s", st, b)
	}
	many := make([]protocol.Mutation, 1001)
	for i := range many {
		many[i] = ph.CheckIn("A1", "trainee", synctest.TraineesE1[1])
	}
	st, b, _ = o.do(t, newReq(t, "POST", env.URL+"/api/v1/sync/push", s.AccessToken, synctest.Body("dev-http", eventNow, 0, many...), true))
	var prob map[string]any
	json.Unmarshal(b, &prob)
	if st != 413 || prob["max_mutations"] != float64(1000) || prob["max_bytes"] != float64(2<<20) {
		t.Fatalf("413: %d %s", st, b)
	}
	st, b, _ = o.do(t, newReq(t, "POST", env.URL+"/api/v1/sync/push", s.AccessToken, []byte(`{"device_id":`), false))
	if st != 400 {
		t.Fatalf("bad json: %d %s", st, b)
	}
	st, _, _ = o.do(t, newReq(t, "GET", env.URL+"/api/v1/sync/pull", "", nil, false))
	if st != 401 {
		t.Fatalf("no token: %d", st)
	}
	// Pull: snapshot pages, then incremental.
	cur, n := "", 0
	for {
		st, b, _ := o.do(t, newReq(t, "GET", env.URL+"/api/v1/sync/pull?limit=4&cursor="+cur, s.AccessToken, nil, false))
		var p protocol.PullResponse
		json.Unmarshal(b, &p)
		if st != 200 {
			t.Fatalf("pull: %d %s", st, b)
		}
		n += len(p.Changes)
		cur = p.Cursor
		if !p.HasMore {
			break
		}
	}
	if n != 20 {
		t.Errorf("snapshot: %d changes, want 20", n)
	}
	st, b, _ = o.do(t, newReq(t, "GET", env.URL+"/api/v1/sync/pull?limit=0", s.AccessToken, nil, false))
	if st != 400 {
		t.Fatalf("limit 0: %d %s", st, b)
	}
	st, b, _ = o.do(t, newReq(t, "GET", env.URL+"/api/v1/sync/pull?cursor=garbage", s.AccessToken, nil, false))
	if st != 400 {
		t.Fatalf("bad cursor: %d %s", st, b)
	}
	env.DB.Write.Exec(`UPDATE users SET scope_version = scope_version + 1 WHERE username = 'staff1'`)
	st, b, _ = o.do(t, newReq(t, "GET", env.URL+"/api/v1/sync/pull?cursor="+cur, s.AccessToken, nil, false))
	if st != 401 || !strings.Contains(string(b), `"unauthorized"`) {
		t.Fatalf("token of a former scope version: %d %s", st, b)
	}
	s = env.Login(t, "staff1", "dev-http") // the new scope version
	st, b, _ = o.do(t, newReq(t, "GET", env.URL+"/api/v1/sync/pull?cursor="+cur, s.AccessToken, nil, false))
	if st != 409 || !strings.Contains(string(b), `"resync"`) {
		t.Fatalf("resync: %d %s", st, b)
	}

	// Review as the supervisor, validated too.
	sup := env.Login(t, "sup1", "dev-sup")
	for _, path := range []string{"/api/v1/review/flags", "/api/v1/review/conflicts", "/api/v1/review/quarantine", "/api/v1/review/merge-proposals", "/api/v1/review/devices",
		"/api/v1/review/items", "/api/v1/review/items?limit=1", "/api/v1/review/devices?sort=attention&format=csv"} {
		if st, b, _ := o.do(t, newReq(t, "GET", env.URL+path, sup.AccessToken, nil, false)); st != 200 {
			t.Errorf("%s: %d %s", path, st, b)
		}
	}
	if st, b, _ := o.do(t, newReq(t, "GET", env.URL+"/api/v1/review/flags", s.AccessToken, nil, false)); st != 403 {
		t.Errorf("staff review: %d %s", st, b)
	}
	if st, b, _ := o.do(t, newReq(t, "POST", env.URL+"/api/v1/activities/A1/close", sup.AccessToken, []byte(`{"reason":""}`), false)); st != 204 {
		t.Errorf("close: %d %s", st, b)
	}
	if st, b, _ := o.do(t, newReq(t, "POST", env.URL+"/api/v1/activities/A1/reopen", sup.AccessToken, nil, false)); st != 403 {
		t.Errorf("reopen by supervisor: %d %s", st, b)
	}
	if st, b, _ := o.do(t, newReq(t, "POST", env.URL+"/api/v1/review/overrides", sup.AccessToken,
		[]byte(`{"activity_id":"A1","person":{"kind":"trainee","id":"`+synctest.TraineesE1[5]+`"},"present":true,"reason":"seen on the sheet"}`), false)); st != 204 {
		t.Errorf("override: %d %s", st, b)
	}
	testReviewDecisionsAgainstOpenAPI(t, env, o, sup.AccessToken, c1.ID)
	if st, b, _ := o.do(t, newReq(t, "GET", env.URL+"/api/v1/openapi.json", "", nil, false)); st != 200 || !json.Valid(b) {
		t.Errorf("openapi.json: %d", st)
	}
}

// testReviewDecisionsAgainstOpenAPI resolves the quarantine of
// TestPushPullHTTPAgainstOpenAPI's push (B1 out_of_scope in CS, Z9
// unknown_activity), acknowledges a clock skew, and calls the activities
// of the day and the outbox upload, every answer validated.
func testReviewDecisionsAgainstOpenAPI(t *testing.T, env *testenv.Env, o *oas, sup string, applied string) {
	t.Helper()
	adm := env.Login(t, "admin", "dev-adm").AccessToken
	quarantine := func(token, query string) []engine.QuarantinedMutation {
		st, b, _ := o.do(t, newReq(t, "GET", env.URL+"/api/v1/review/quarantine"+query, token, nil, false))
		var out struct{ Mutations []engine.QuarantinedMutation }
		if err := json.Unmarshal(b, &out); st != 200 || err != nil {
			t.Fatalf("quarantine%s: %d %s", query, st, b)
		}
		return out.Mutations
	}
	byCode := map[string]string{}
	for _, m := range quarantine(sup, "") {
		byCode[m.Code] = m.ID
	}
	if len(byCode) != 2 || byCode["out_of_scope"] == "" || byCode["unknown_activity"] == "" {
		t.Fatalf("quarantine: %v", byCode)
	}
	resolve := func(token, id, body string) (int, []byte) {
		st, b, _ := o.do(t, newReq(t, "POST", env.URL+"/api/v1/review/quarantine/"+id+"/resolve", token, []byte(body), false))
		return st, b
	}
	for _, c := range []struct {
		token, id, body string
		want            int
	}{
		{sup, byCode["unknown_activity"], `{"action":"count_present","reason":"x"}`, 400}, // no such activity
		{sup, byCode["unknown_activity"], `{"action":"acknowledge","reason":"typo on the phone"}`, 204},
		{sup, byCode["unknown_activity"], `{"action":"acknowledge"}`, 409},
		{sup, byCode["out_of_scope"], `{"action":"count_present","reason":"seen"}`, 403}, // B1 is in CS
		{adm, byCode["out_of_scope"], `{"action":"count_present"}`, 400},                 // reason required
		{adm, byCode["out_of_scope"], `{"action":"count_present","reason":"on the signed sheet"}`, 204},
		{adm, applied, `{"action":"acknowledge"}`, 404}, // applied, not quarantined
		{adm, "nope", `{"action":"acknowledge"}`, 404},
		{adm, byCode["out_of_scope"], `{"action":"ignore"}`, 400},
	} {
		if st, b := resolve(c.token, c.id, c.body); st != c.want {
			t.Errorf("resolve %s %s: %d, want %d: %s", c.id, c.body, st, c.want, b)
		}
	}
	if left := quarantine(sup, ""); len(left) != 0 {
		t.Errorf("resolved items still listed: %+v", left)
	}
	all := quarantine(adm, "?all=1")
	if len(all) != 2 || all[0].Decision == "" || all[1].Decision == "" {
		t.Errorf("?all=1: %+v", all)
	}
	var ov, reason string
	if err := env.DB.Read.QueryRow(`SELECT override, override_reason FROM attendance WHERE activity_id = 'B1' AND person_kind = 'trainee' AND person_id = ?`,
		synctest.TraineesE3[0]).Scan(&ov, &reason); err != nil || ov != protocol.OverridePresent || reason != "on the signed sheet" {
		t.Errorf("count_present: override %q %q %v", ov, reason, err)
	}
	var changes, audits int
	changes = dbtest.Value[int](t, env.DB, `SELECT count(*) FROM attendance WHERE activity_id = 'B1' AND seq > 0`)
	audits = dbtest.Value[int](t, env.DB, `SELECT count(*) FROM audit_log WHERE action LIKE 'review.quarantine_%'`)
	if changes == 0 || audits != 2 {
		t.Errorf("change log %d, audit %d", changes, audits)
	}

	// Clock skew: acknowledged once, then 409; the device list keeps it.
	env.DB.Write.Exec(`UPDATE devices SET clock_skewed = 1, clock_offset_ms = 5400000 WHERE id = 'dev-http'`)
	for _, want := range []int{204, 409} {
		if st, b, _ := o.do(t, newReq(t, "POST", env.URL+"/api/v1/review/devices/dev-http/acknowledge-skew", sup, []byte(`{"reason":"clock wrong"}`), false)); st != want {
			t.Errorf("acknowledge-skew: %d, want %d: %s", st, want, b)
		}
	}
	if st, b, _ := o.do(t, newReq(t, "GET", env.URL+"/api/v1/review/devices", sup, nil, false)); st != 200 || !strings.Contains(string(b), `"skew_acknowledged_by":"sup1"`) {
		t.Errorf("devices: %d %s", st, b)
	}
	if st, b, _ := o.do(t, newReq(t, "POST", env.URL+"/api/v1/review/devices/nope/acknowledge-skew", sup, nil, false)); st != 404 {
		t.Errorf("unknown device: %d %s", st, b)
	}

	// Activities of the day and an outbox upload (the phone's batch again:
	// duplicates).
	if st, b, _ := o.do(t, newReq(t, "GET", env.URL+"/api/v1/review/activities?date=2026-03-23", sup, nil, false)); st != 200 || !strings.Contains(string(b), `"activity_id":"A1"`) {
		t.Errorf("activities: %d %s", st, b)
	}
	if st, b, _ := o.do(t, newReq(t, "GET", env.URL+"/api/v1/review/activities?date=23-03-2026", sup, nil, false)); st != 400 {
		t.Errorf("activities bad date: %d %s", st, b)
	}
	up := synctest.Body("dev-http", eventNow, 0)
	if st, b, _ := o.do(t, newReq(t, "POST", env.URL+"/api/v1/review/outbox-upload", sup, up, false)); st != 200 || !strings.Contains(string(b), `"username":"staff1"`) {
		t.Errorf("outbox upload: %d %s", st, b)
	}
}

func TestPushGzipBomb(t *testing.T) {
	env := syncEnv(t)
	s := env.Login(t, "staff1", "dev-bomb")
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(`{"device_id":"dev-bomb","client_time":"2026-03-23T10:00:00Z","mutations":[],"app_version":"`))
	zero := make([]byte, 1<<20)
	for i := range zero {
		zero[i] = 'a'
	}
	for i := 0; i < 64; i++ { // 64 MiB decompressed
		zw.Write(zero)
	}
	zw.Close()
	start := time.Now()
	if a := env.Raw(t, "POST", "/api/v1/sync/push", s.AccessToken, "application/json", b.Bytes(), "Content-Encoding", "gzip"); a.Status != 413 {
		t.Fatalf("bomb: %d", a.Status)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("bomb took %v", d)
	}
}
