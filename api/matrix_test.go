package api_test

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"prodays/internal/testenv"
)

// The access matrix: every route the server registers × every kind of
// caller → the status expected. A route without a row fails the test, so
// a new endpoint cannot ship without someone deciding who may call it.
//
// Callers (columns, in this order):
const (
	anon     = iota // no token
	staffIn         // staff of EFP-CS-1, the establishment of the target data
	staffOut        // staff of EFP-TTA-1, another establishment and region
	supIn           // supervisor of CS, the target data's region
	supOut          // supervisor of TTA
	admin           // admin
	nCallers
)

var callerNames = [nCallers]string{"anonymous", "staff in scope", "staff out of scope", "supervisor in region", "supervisor of another region", "admin"}

// row is one request of the matrix; a route may have several rows (with
// and without a parameter that changes the answer). URL is the concrete request (path
// parameters filled with fixture ids; the route's path when empty); Body
// the JSON body (nil for none). Cells run left to right, so a change that
// only the last column may make happens once.
type row struct {
	Method, Path string
	URL          string
	Body         any
	Want         [nCallers]int
}

const (
	s200 = http.StatusOK
	s201 = http.StatusCreated
	s204 = http.StatusNoContent
	s401 = http.StatusUnauthorized
	s403 = http.StatusForbidden
	s400 = http.StatusBadRequest
)

// adminOnly is the row of an admin route that succeeds with status ok.
func adminOnly(ok int) [nCallers]int { return [nCallers]int{s401, s403, s403, s403, s403, ok} }

// regionScoped is the row of a route for admins and the supervisor of the
// target's region (CS).
func regionScoped(ok int) [nCallers]int { return [nCallers]int{s401, s403, s403, ok, s403, ok} }

// everyone is the row of a public route answering status to all.
func everyone(status int) [nCallers]int {
	return [nCallers]int{status, status, status, status, status, status}
}

// authenticated is the row of a route any logged-in caller may use.
func authenticated(ok int) [nCallers]int { return [nCallers]int{s401, ok, ok, ok, ok, ok} }

func matrixRows() []row {
	return []row{
		{Method: "GET", Path: "/healthz", Want: everyone(s200)},
		{Method: "GET", Path: "/readyz", Want: everyone(s200)},
		// /metrics: an admin token, or the scrape token (TestMetricsEndpoint),
		// from loopback too.
		{Method: "GET", Path: "/metrics", Want: [nCallers]int{s401, s403, s403, s403, s403, s200}},

		{Method: "POST", Path: "/api/v1/auth/login", Body: map[string]string{"username": "m.login", "password": testenv.Password, "device_id": "m-login-dev",
			"device_secret": "m-login-dev-secret-0123456789"}, Want: everyone(s200)}, // the first login binds the device with the secret it carries
		{Method: "POST", Path: "/api/v1/auth/refresh", Body: map[string]string{}, Want: everyone(s401)},
		{Method: "GET", Path: "/api/v1/auth/me", Want: authenticated(s200)},

		{Method: "GET", Path: "/api/v1/admin/users", Want: adminOnly(s200)},
		{Method: "POST", Path: "/api/v1/admin/users", Body: map[string]string{"username": "m.created", "role": "staff", "establishment_code": "EFP-CS-1"}, Want: adminOnly(s201)},
		{Method: "GET", Path: "/api/v1/admin/users/:username", URL: "/api/v1/admin/users/m.target", Want: adminOnly(s200)},
		{Method: "PATCH", Path: "/api/v1/admin/users/:username", URL: "/api/v1/admin/users/m.target", Body: map[string]string{"full_name": "Target"}, Want: adminOnly(s200)},
		{Method: "PUT", Path: "/api/v1/admin/users/:username/password", URL: "/api/v1/admin/users/m.target/password", Body: map[string]string{"password": "another-password"}, Want: adminOnly(s204)},
		{Method: "GET", Path: "/api/v1/admin/users/:username/devices", URL: "/api/v1/admin/users/m.target/devices", Want: adminOnly(s200)},
		{Method: "POST", Path: "/api/v1/admin/devices/:id/revoke", URL: "/api/v1/admin/devices/m-target-dev/revoke", Want: adminOnly(s200)},
		{Method: "GET", Path: "/api/v1/admin/audit", Want: adminOnly(s200)},
		{Method: "GET", Path: "/api/v1/admin/editions", Want: adminOnly(s200)},
		{Method: "POST", Path: "/api/v1/admin/editions", Body: map[string]string{"name": "Matrix 2027", "start_date": "2027-03-01", "end_date": "2027-03-05"}, Want: adminOnly(s201)},
		{Method: "PATCH", Path: "/api/v1/admin/editions/:id", URL: "/api/v1/admin/editions/1", Body: map[string]string{"theme": "Matrix"}, Want: adminOnly(s200)},
		// A JSON body, not a multipart upload: the admin gets past
		// authorisation to the handler's 400 (import itself: api/import_test.go).
		{Method: "POST", Path: "/api/v1/admin/import/:kind", URL: "/api/v1/admin/import/establishments", Body: map[string]string{}, Want: adminOnly(s400)},
		// Personal data (law 09-08): admins only. The erasure takes a
		// trainee no other row uses.
		{Method: "GET", Path: "/api/v1/admin/trainees/:id/export", URL: "/api/v1/admin/trainees/TR-CS-1/export", Want: adminOnly(s200)},
		{Method: "POST", Path: "/api/v1/admin/trainees/:id/erase", URL: "/api/v1/admin/trainees/TR-TTA-1/erase", Body: map[string]string{"reason": "written request of the trainee"}, Want: adminOnly(s200)},

		// Reports and exports: admins everything, supervisors their region,
		// staff nothing. The target is region CS's data.
		{Method: "GET", Path: "/api/v1/reports/bilan", URL: "/api/v1/reports/bilan?edition=1&region=CS", Want: regionScoped(s200)},
		{Method: "GET", Path: "/api/v1/exports/participations.csv", URL: "/api/v1/exports/participations.csv?region=CS", Want: regionScoped(s200)},
		// Without ?region= a supervisor gets their own region.
		{Method: "GET", Path: "/api/v1/exports/participations.csv", Want: [nCallers]int{s401, s403, s403, s200, s200, s200}},
		{Method: "GET", Path: "/api/v1/exports/participations.xlsx", URL: "/api/v1/exports/participations.xlsx?region=CS", Want: regionScoped(s200)},
		{Method: "GET", Path: "/api/v1/exports/attendance/:file", URL: "/api/v1/exports/attendance/ACT-CS-1.xlsx", Want: regionScoped(s200)},
		{Method: "GET", Path: "/api/v1/exports/attendance-day", URL: "/api/v1/exports/attendance-day?date=2026-03-02&region=CS&format=xlsx", Want: regionScoped(s200)},
		{Method: "GET", Path: "/api/v1/exports/badges.pdf", URL: "/api/v1/exports/badges.pdf?establishment=EFP-CS-1", Want: regionScoped(s200)},
		{Method: "GET", Path: "/api/v1/exports/certificates/:file", URL: "/api/v1/exports/certificates/TR-CS-1.pdf", Want: regionScoped(s200)},
		{Method: "GET", Path: "/api/v1/exports/choices", Want: [nCallers]int{s401, s403, s403, s200, s200, s200}},
		{Method: "GET", Path: "/api/v1/exports/bilan.pdf", URL: "/api/v1/exports/bilan.pdf?edition=1&region=CS", Want: regionScoped(s200)},
		{Method: "GET", Path: "/api/v1/exports/bilan.xlsx", URL: "/api/v1/exports/bilan.xlsx?edition=1&region=CS", Want: regionScoped(s200)},

		// Sync (sync protocol v1) and review (issue #4). A push names the
		// caller's own device (the staff in scope's here): every other
		// token gets 403 device_mismatch.
		{Method: "GET", Path: "/api/v1/openapi.json", Want: everyone(s200)},
		{Method: "POST", Path: "/api/v1/sync/push", Body: map[string]any{"device_id": "m-dev-m.staff.cs", "client_time": "2026-03-02T10:00:00Z", "mutations": []any{}},
			Want: [nCallers]int{s401, s200, s403, s403, s403, s403}},
		{Method: "GET", Path: "/api/v1/sync/pull", Want: authenticated(s200)},
		{Method: "GET", Path: "/api/v1/review/flags", Want: reviewers(s200)},
		{Method: "GET", Path: "/api/v1/review/conflicts", Want: reviewers(s200)},
		{Method: "GET", Path: "/api/v1/review/quarantine", Want: reviewers(s200)},
		{Method: "GET", Path: "/api/v1/review/merge-proposals", Want: reviewers(s200)},
		{Method: "GET", Path: "/api/v1/review/devices", Want: reviewers(s200)},
		{Method: "GET", Path: "/api/v1/review/items", Want: reviewers(s200)},
		{Method: "GET", Path: "/api/v1/review/trainees", Want: reviewers(s400)}, // no q
		// A bulk decision over nothing, an attach of no mutation: past
		// authorisation to 400 and 404.
		{Method: "POST", Path: "/api/v1/review/items/decide", Body: map[string]any{"refs": []string{}, "filter": map[string]string{"q": "no-such-person"}, "action": "dismiss"}, Want: reviewers(s400)},
		{Method: "POST", Path: "/api/v1/review/quarantine/:id/attach", URL: "/api/v1/review/quarantine/no-such-mutation/attach", Body: map[string]string{"trainee_id": "T1"}, Want: reviewers(s404)},
		{Method: "GET", Path: "/api/v1/review/activities", URL: "/api/v1/review/activities?date=2026-03-02", Want: reviewers(s200)},
		// An outbox file of the staff in scope's phone, uploaded by a
		// supervisor: their region's supervisor and admins only.
		{Method: "POST", Path: "/api/v1/review/outbox-upload", Body: map[string]any{"device_id": "m-dev-m.staff.cs", "client_time": "2026-03-02T10:00:00Z", "mutations": []any{}},
			Want: regionScoped(s200)},
		// Decisions on items that do not exist: past authorisation to 404
		// (decisions in scope: sync/engine tests and api/sync_test.go).
		{Method: "POST", Path: "/api/v1/review/flags/:id/accept", URL: "/api/v1/review/flags/999/accept", Want: reviewers(s404)},
		{Method: "POST", Path: "/api/v1/review/flags/:id/reject", URL: "/api/v1/review/flags/999/reject", Want: reviewers(s404)},
		{Method: "POST", Path: "/api/v1/review/conflicts/:id/confirm", URL: "/api/v1/review/conflicts/999/confirm", Want: reviewers(s404)},
		{Method: "POST", Path: "/api/v1/review/conflicts/:id/reverse", URL: "/api/v1/review/conflicts/999/reverse", Want: reviewers(s404)},
		{Method: "POST", Path: "/api/v1/review/merge-proposals/:id/merge", URL: "/api/v1/review/merge-proposals/999/merge", Want: reviewers(s404)},
		{Method: "POST", Path: "/api/v1/review/merge-proposals/:id/dismiss", URL: "/api/v1/review/merge-proposals/999/dismiss", Want: reviewers(s404)},
		{Method: "POST", Path: "/api/v1/review/quarantine/:id/resolve", URL: "/api/v1/review/quarantine/no-such-mutation/resolve", Body: map[string]string{"action": "acknowledge"}, Want: reviewers(s404)},
		{Method: "POST", Path: "/api/v1/review/devices/:id/acknowledge-skew", URL: "/api/v1/review/devices/no-such-device/acknowledge-skew", Want: reviewers(s404)},
		// A skewed phone of region CS: its supervisor and admins only
		// (the admin's call finds it acknowledged already: 409).
		{Method: "POST", Path: "/api/v1/review/devices/:id/acknowledge-skew", URL: "/api/v1/review/devices/m-dev-m.staff.cs/acknowledge-skew", Body: map[string]string{"reason": "phone clock wrong"},
			Want: [nCallers]int{s401, s403, s403, s204, s403, s409}},
		// A refused check-in of the staff in scope's phone, at ACT-CS-1.
		{Method: "POST", Path: "/api/v1/review/quarantine/:id/resolve", URL: "/api/v1/review/quarantine/m-refused-1/resolve", Body: map[string]string{"action": "count_present", "reason": "on the signed sheet"},
			Want: [nCallers]int{s401, s403, s403, s204, s403, s409}},
		{Method: "POST", Path: "/api/v1/review/overrides", Body: map[string]any{"activity_id": "ACT-CS-1", "person": map[string]string{"kind": "trainee", "id": "TR-CS-1"}, "present": true, "reason": "on the signed sheet"},
			Want: regionScoped(s204)},
		// After the override: TR-CS-1 has a participation to certify.
		{Method: "GET", Path: "/api/v1/exports/certificates.pdf", URL: "/api/v1/exports/certificates.pdf?establishment=EFP-CS-1", Want: regionScoped(s200)},
		{Method: "GET", Path: "/api/v1/exports/certificates.pdf", URL: "/api/v1/exports/certificates.pdf?activity=ACT-CS-1", Want: regionScoped(s200)},
		{Method: "POST", Path: "/api/v1/activities/:id/close", URL: "/api/v1/activities/ACT-CS-1/close", Body: map[string]string{"reason": "signed off"}, Want: regionScoped(s204)},
		{Method: "POST", Path: "/api/v1/activities/:id/reopen", URL: "/api/v1/activities/ACT-CS-1/reopen", Want: adminOnly(s204)},
		// Last: a logout with an access token closes that session, so
		// every caller's token stops here.
		{Method: "POST", Path: "/api/v1/auth/logout", Want: everyone(s204)},
	}
}

// reviewers is the row of a review route: supervisors (each sees their own
// region) and admins.
func reviewers(ok int) [nCallers]int { return [nCallers]int{s401, s403, s403, ok, ok, ok} }

const (
	s404 = http.StatusNotFound
	s409 = http.StatusConflict
)

// uncovered returns a message for every registered route without a row
// and every row without a route. Echo's own catch-all entries (the
// RouteNotFound routes a group with middleware adds) are not endpoints.
func uncovered(routes []*echo.Route, rows []row) []string {
	have := map[string]bool{}
	for _, r := range rows {
		have[r.Method+" "+r.Path] = true
	}
	registered := map[string]bool{}
	var msgs []string
	for _, r := range routes {
		if r.Method == echo.RouteNotFound {
			continue
		}
		k := r.Method + " " + r.Path
		registered[k] = true
		if !have[k] {
			msgs = append(msgs, fmt.Sprintf("route %s has no row in the access matrix (api/matrix_test.go): decide who may call it", k))
		}
	}
	for k := range have {
		if !registered[k] {
			msgs = append(msgs, fmt.Sprintf("the access matrix has a row for %s, which the server does not register", k))
		}
	}
	sort.Strings(msgs)
	return msgs
}

// dataFixture loads two regions' worth of data with SQL: in CS the
// establishment EFP-CS-1, activity ACT-CS-1 (2026-03-02) and trainees
// TR-CS-1/2; in TTA EFP-TTA-1, ACT-TTA-1 and TR-TTA-1; edition 1.
func dataFixture(t *testing.T, env *testenv.Env) {
	t.Helper()
	establishments(t, env)
	exec(t, env,
		`INSERT INTO editions (id, name, start_date, end_date, created_at) VALUES (1, 'Pro''Days 2026', '2026-03-02', '2026-03-06', '2026-01-01T00:00:00.000Z')`,
		`INSERT INTO activities (id, kind, title, date, start_time, end_time, establishment_code, region_code, edition_id)
			VALUES ('ACT-CS-1', 'meeting', 'Les métiers du digital', '2026-03-02', '09:00', '11:00', 'EFP-CS-1', 'CS', 1)`,
		`INSERT INTO activities (id, kind, title, date, start_time, end_time, establishment_code, region_code, edition_id)
			VALUES ('ACT-TTA-1', 'meeting', 'Logistique portuaire', '2026-03-02', '09:00', '11:00', 'EFP-TTA-1', 'TTA', 1)`,
		`INSERT INTO trainees (id, last_name, first_name, establishment_code, updated_at) VALUES
			('TR-CS-1', 'Alaoui', 'Sara', 'EFP-CS-1', '2026-01-01T00:00:00.000Z'),
			('TR-CS-2', 'Bennani', 'Omar', 'EFP-CS-1', '2026-01-01T00:00:00.000Z'),
			('TR-TTA-1', 'Chraibi', 'Nadia', 'EFP-TTA-1', '2026-01-01T00:00:00.000Z')`,
	)
}

// matrixFixture loads dataFixture, the callers (returning their access
// tokens by column) and the targets of admin actions (m.target on device
// m-target-dev, m.login).
func matrixFixture(t *testing.T, env *testenv.Env) [nCallers]string {
	dataFixture(t, env)
	testenv.CreateUser(t, env.DB, "m.staff.cs", "staff", "EFP-CS-1", "")
	testenv.CreateUser(t, env.DB, "m.staff.tta", "staff", "EFP-TTA-1", "")
	testenv.CreateUser(t, env.DB, "m.sup.cs", "supervisor", "", "CS")
	testenv.CreateUser(t, env.DB, "m.sup.tta", "supervisor", "", "TTA")
	testenv.CreateUser(t, env.DB, "m.admin", "admin", "", "")
	testenv.CreateUser(t, env.DB, "m.target", "staff", "EFP-CS-1", "")
	testenv.CreateUser(t, env.DB, "m.login", "staff", "EFP-TTA-1", "")
	env.Login(t, "m.target", "m-target-dev")
	var tokens [nCallers]string
	for i, u := range []string{"m.staff.cs", "m.staff.tta", "m.sup.cs", "m.sup.tta", "m.admin"} {
		tokens[i+1] = env.Login(t, u, "m-dev-"+u).AccessToken
	}
	// The staff in scope's phone: clock skewed, one refused check-in.
	exec(t, env,
		`UPDATE devices SET clock_skewed = 1, clock_offset_ms = 3600000 WHERE id = 'm-dev-m.staff.cs'`,
		`INSERT INTO mutation_log (id, device_id, username, seq, type, status, code, message, received_at, payload)
			VALUES ('m-refused-1', 'm-dev-m.staff.cs', 'm.staff.cs', 1, 'attendance.check_in', 'rejected', 'out_of_scope', 'refused',
			'2026-03-02T10:00:00.000Z', '{"id":"m-refused-1","type":"attendance.check_in","activity_id":"ACT-CS-1","person":{"kind":"trainee","id":"TR-CS-2"}}')`)
	return tokens
}

func TestAccessMatrix(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	rows := matrixRows()
	for _, msg := range uncovered(env.Echo.Routes(), rows) {
		t.Error(msg)
	}
	tokens := matrixFixture(t, env)
	for _, r := range rows {
		url := r.URL
		if url == "" {
			url = r.Path
		}
		for who := range nCallers {
			a := send(t, env, r.Method, url, tokens[who], r.Body)
			if a.Status != r.Want[who] {
				t.Errorf("%s %s as %s: got %d, want %d (%s)", r.Method, url, callerNames[who], a.Status, r.Want[who], strings.TrimSpace(string(a.Body)))
			}
		}
	}
}

// TestAccessMatrixCatchesNewRoute proves the guard: a route that nobody
// wrote a row for is reported by name.
func TestAccessMatrixCatchesNewRoute(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	before := uncovered(env.Echo.Routes(), matrixRows())
	routes := append(env.Echo.Routes(), &echo.Route{Method: "DELETE", Path: "/api/v1/brand-new/:id"})
	after := uncovered(routes, matrixRows())
	want := "route DELETE /api/v1/brand-new/:id has no row in the access matrix"
	found := false
	for _, m := range after {
		found = found || strings.HasPrefix(m, want)
	}
	if !found || len(after) != len(before)+1 {
		t.Fatalf("got %q, want %q added to %q", after, want, before)
	}
}
