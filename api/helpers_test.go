package api_test

import (
	"encoding/json"
	"strconv"
	"sync"
	"testing"
	"time"

	"prodays/internal/testenv"
)

// clock is a pinned clock that tests advance; the server reads it from its
// own goroutines.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// answer is what send returns.
type answer testenv.Answer

// JSON decodes the body into a map (empty when the body is not an object).
func (a answer) JSON() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(a.Body, &m)
	return m
}

// Code returns the problem+json code of an error answer.
func (a answer) Code() string {
	c, _ := a.JSON()["code"].(string)
	return c
}

// send sends a request with a JSON body (nil for none), a bearer token
// ("" for none) and extra headers (name, value pairs).
func send(t testing.TB, env *testenv.Env, method, path, token string, body any, headers ...string) answer {
	t.Helper()
	return answer(env.Send(t, method, path, token, body, headers...))
}

// wantProblem fails t unless a is a problem+json answer with status and code.
func wantProblem(t testing.TB, what string, a answer, status int, code string) {
	t.Helper()
	if a.Status != status || a.Code() != code {
		t.Fatalf("%s: got %d %s, want %d %s", what, a.Status, a.Body, status, code)
	}
	if ct := a.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("%s: Content-Type %q, want application/problem+json", what, ct)
	}
}

// exec runs SQL statements on the test database (fixtures).
func exec(t testing.TB, env *testenv.Env, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		if _, err := env.DB.Write.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// establishments inserts two establishments in two regions: EFP-CS-1 in
// Casablanca-Settat (CS) and EFP-TTA-1 in Tanger-Tétouan-Al Hoceïma (TTA).
func establishments(t testing.TB, env *testenv.Env) {
	t.Helper()
	exec(t, env,
		`INSERT INTO establishments (code, name, city, region_code) VALUES ('EFP-CS-1', 'ISTA Hay Hassani', 'Casablanca', 'CS')`,
		`INSERT INTO establishments (code, name, city, region_code) VALUES ('EFP-TTA-1', 'ISTA Tanger', 'Tanger', 'TTA')`)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
