package simulate_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"prodays/internal/testenv"
	"prodays/simulate"
	"prodays/sync/protocol"
)

const jsonl = `{"device_id":"d1","username":"u1","batch":2,"seq":4,"activity_id":"A1","trainee_id":"T1","action":"check_in","recorded_at":"2026-03-21T08:13:00.000+01:00","method":"qr"}
{"device_id":"d1","username":"u1","batch":1,"seq":1,"activity_id":"A1","trainee_id":"T1","action":"check_in","recorded_at":"2026-03-21T08:10:00.000Z","method":"qr"}
{"device_id":"d2","username":"u2","batch":1,"seq":1,"activity_id":"A1","trainee_id":"T1","action":"check_in","recorded_at":"2026-03-21T08:10:00.000Z","method":"search","clock_error_ms":-7200000}
{"device_id":"d1","username":"u1","batch":1,"seq":2,"activity_id":"A1","speaker_id":"S1","action":"check_in","recorded_at":"2026-03-21T08:11:00.000Z","method":"manual","note":"ignored"}

{"device_id":"d1","username":"u1","batch":2,"seq":3,"activity_id":"A1","trainee_id":"T1","action":"undo","recorded_at":"2026-03-21T08:12:00.000Z"}
{"device_id":"d1","username":"u1","batch":2,"seq":5,"activity_id":"A1","trainee_id":"T1","action":"undo","recorded_at":"2026-03-21T08:14:00.000Z"}
`

// jsonlPlan reads and converts the jsonl actions.
func jsonlPlan(t *testing.T) *simulate.Plan {
	t.Helper()
	acts, err := simulate.ReadActions(strings.NewReader(jsonl))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := simulate.Convert(acts)
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

func TestConvert(t *testing.T) {
	plan := jsonlPlan(t)
	if got, want := plan.Mutations, 6; got != want {
		t.Fatalf("mutations: got %d, want %d", got, want)
	}
	if got, want := plan.Usernames(), []string{"u1", "u2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("usernames: got %v, want %v", got, want)
	}
	d1, d2 := plan.Devices[0], plan.Devices[1]
	if d1.ID != "d1" || len(d1.Batches) != 2 || d1.Batches[0].Number != 1 || d1.Batches[1].Number != 2 {
		t.Fatalf("d1 batches: %+v", d1.Batches)
	}
	if got, want := d2.ClockError, -2*time.Hour; got != want {
		t.Errorf("d2 clock error: got %v, want %v", got, want)
	}
	var seqs []int64
	for _, m := range d1.Batches[1].Mutations {
		seqs = append(seqs, m.Seq)
	}
	if want := []int64{3, 4, 5}; !reflect.DeepEqual(seqs, want) {
		t.Errorf("batch 2 seqs: got %v, want %v", seqs, want)
	}
	at := d1.Batches[0].Mutations[0].RecordedAt
	id := func(dev string, seq int64) string { return simulate.MutationID(dev, seq, at) }
	if id("d1", 1) != id("d1", 1) || id("d1", 1) == id("d2", 1) || !protocol.IsUUID(id("d1", 1)) {
		t.Errorf("MutationID is not a stable UUID per (device, seq)")
	}
	if u := uuid.MustParse(id("d1", 1)); u.Version() != 7 || strings.ReplaceAll(u.String(), "-", "")[:12] != fmt.Sprintf("%012x", at.UnixMilli()) {
		t.Errorf("MutationID %s: want a UUIDv7 of %s (%x ms)", u, at, at.UnixMilli())
	}
	if a, b := id("d1", 1), simulate.MutationID("d1", 1, at.Add(time.Millisecond)); a >= b {
		t.Errorf("MutationID is not time-ordered: %s then %s a millisecond later", a, b)
	}
	if got := d1.Batches[0].Mutations[0].ID; got != id("d1", 1) {
		t.Errorf("d1 seq 1 id: got %s, want MutationID(d1, 1, its recorded_at) %s", got, id("d1", 1))
	}
	seq4 := d1.Batches[1].Mutations[1]
	if seq4.Seq != 4 || seq4.ID != simulate.MutationID("d1", 4, seq4.RecordedAt) {
		t.Errorf("d1 seq 4: got id %s seq %d, want MutationID(d1, 4, its recorded_at)", seq4.ID, seq4.Seq)
	}
	b2 := d1.Batches[1].Mutations
	// seq 3 undoes seq 1 (T1), not the speaker's seq 2 nor d2's check-in;
	// seq 5 undoes seq 1 and seq 4.
	if got, want := b2[0].Undoes, []string{id("d1", 1)}; !reflect.DeepEqual(got, want) {
		t.Errorf("undo seq 3: got %v, want %v", got, want)
	}
	if got, want := b2[2].Undoes, []string{id("d1", 1), seq4.ID}; !reflect.DeepEqual(got, want) {
		t.Errorf("undo seq 5: got %v, want %v", got, want)
	}
	sp := d1.Batches[0].Mutations[1]
	if sp.Type != protocol.TypeCheckIn || sp.Person.Kind != "speaker" || sp.Method != "manual" {
		t.Errorf("speaker check-in: %+v", sp)
	}
	if _, off := b2[1].RecordedAt.Zone(); off != 3600 {
		t.Errorf("recorded_at offset: got %d, want 3600", off)
	}
}

func TestConvertRefuses(t *testing.T) {
	for name, line := range map[string]string{
		"both persons": `{"device_id":"d","username":"u","batch":1,"seq":1,"activity_id":"A","trainee_id":"T","speaker_id":"S","action":"check_in","recorded_at":"2026-03-21T08:10:00Z"}`,
		"no person":    `{"device_id":"d","username":"u","batch":1,"seq":1,"activity_id":"A","action":"check_in","recorded_at":"2026-03-21T08:10:00Z"}`,
		"bad action":   `{"device_id":"d","username":"u","batch":1,"seq":1,"activity_id":"A","trainee_id":"T","action":"delete","recorded_at":"2026-03-21T08:10:00Z"}`,
		"bad time":     `{"device_id":"d","username":"u","batch":1,"seq":1,"activity_id":"A","trainee_id":"T","action":"undo","recorded_at":"yesterday"}`,
		"seq 0":        `{"device_id":"d","username":"u","batch":1,"seq":0,"activity_id":"A","trainee_id":"T","action":"undo","recorded_at":"2026-03-21T08:10:00Z"}`,
		"seq twice": `{"device_id":"d","username":"u","batch":1,"seq":1,"activity_id":"A","trainee_id":"T","action":"undo","recorded_at":"2026-03-21T08:10:00Z"}
{"device_id":"d","username":"u","batch":2,"seq":1,"activity_id":"A","trainee_id":"T","action":"undo","recorded_at":"2026-03-21T08:10:00Z"}`,
	} {
		t.Run(name, func(t *testing.T) {
			acts, err := simulate.ReadActions(strings.NewReader(line))
			if err == nil {
				_, err = simulate.Convert(acts)
			}
			if err == nil {
				t.Fatal("no error")
			}
		})
	}
}

// fakeServer is a prodays stand-in that misbehaves in every way the
// protocol allows: 429 with Retry-After, 503, 413 over maxBatch
// mutations, 401 once per device (expired token).
type fakeServer struct {
	mu       sync.Mutex
	maxBatch int
	applied  map[string]int // mutation id → times applied
	pushes   int
	expired  map[string]bool // device whose token already expired once
	refresh  int
	clients  map[string]time.Time
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	switch r.URL.Path {
	case "/api/v1/auth/login":
		var req map[string]string
		json.Unmarshal(body, &req)
		if req["password"] != "pw-1234567890" {
			http.Error(w, `{"code":"invalid_credentials"}`, 401)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"access_token": "a:" + req["device_id"], "refresh_token": "r:" + req["device_id"]})
	case "/api/v1/auth/refresh":
		f.refresh++
		var req map[string]string
		json.Unmarshal(body, &req)
		dev := strings.TrimPrefix(req["refresh_token"], "r:")
		json.NewEncoder(w).Encode(map[string]string{"access_token": "b:" + dev, "refresh_token": "r:" + dev})
	case "/api/v1/sync/push":
		f.pushes++
		var req protocol.PushRequest
		if err := json.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		f.clients[req.DeviceID] = req.ClientTime
		switch {
		case f.pushes == 1:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(429)
			return
		case f.pushes == 2:
			w.WriteHeader(503)
			return
		case len(req.Mutations) > f.maxBatch:
			w.WriteHeader(413)
			return
		case !f.expired[req.DeviceID] && strings.HasPrefix(r.Header.Get("Authorization"), "Bearer a:"):
			f.expired[req.DeviceID] = true
			w.WriteHeader(401)
			return
		}
		resp := protocol.PushResponse{ServerTime: time.Now()}
		for _, m := range req.Mutations {
			if f.applied[m.ID] > 0 {
				resp.Results = append(resp.Results, protocol.Result{ID: m.ID, Status: protocol.StatusDuplicate, Outcome: protocol.StatusApplied})
				continue
			}
			f.applied[m.ID]++
			resp.Results = append(resp.Results, protocol.Result{ID: m.ID, Status: protocol.StatusApplied})
		}
		json.NewEncoder(w).Encode(resp)
	default:
		http.NotFound(w, r)
	}
}

func TestRunRetryRules(t *testing.T) {
	plan := jsonlPlan(t)
	for _, allAtOnce := range []bool{false, true} {
		f := &fakeServer{maxBatch: 2, applied: map[string]int{}, expired: map[string]bool{}, clients: map[string]time.Time{}}
		ts := httptest.NewServer(f)
		sum, err := simulate.New(plan, ts.URL, simulate.Options{Password: "pw-1234567890", DropResponses: 0.3, Duplicate: 0.5,
			AllAtOnce: allAtOnce, Seed: 7, Gzip: false, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}).Run(context.Background())
		ts.Close()
		if err != nil {
			t.Fatalf("all at once %v: %v\n%+v", allAtOnce, err, sum)
		}
		if got, want := sum.Outcomes, map[string]int{"applied": 6}; !reflect.DeepEqual(got, want) {
			t.Errorf("outcomes: got %v, want %v", got, want)
		}
		for id, n := range f.applied {
			if n != 1 {
				t.Errorf("mutation %s applied %d times", id, n)
			}
		}
		if sum.Throttled != 2 || sum.Splits == 0 || sum.Refreshes != 2 || f.refresh != 2 || sum.Retries < 2 {
			t.Errorf("throttled %d (want 2), splits %d (want > 0), refreshes %d/%d (want 2), retries %d (want ≥ 2)",
				sum.Throttled, sum.Splits, sum.Refreshes, f.refresh, sum.Retries)
		}
		if sum.DroppedResponses > 0 && sum.Results[protocol.StatusDuplicate] == 0 {
			t.Errorf("%d responses dropped but no duplicate result", sum.DroppedResponses)
		}
		// client_time carries the phone's clock error.
		if off := time.Until(f.clients["d2"]); off > -time.Hour-50*time.Minute || off < -2*time.Hour-10*time.Minute {
			t.Errorf("d2 client_time is %v from now, want about -2h", off)
		}
	}
}

func TestRunBadPassword(t *testing.T) {
	plan := jsonlPlan(t)
	f := &fakeServer{maxBatch: 10, applied: map[string]int{}, expired: map[string]bool{}, clients: map[string]time.Time{}}
	ts := httptest.NewServer(f)
	defer ts.Close()
	for _, allAtOnce := range []bool{false, true} {
		sum, err := simulate.New(plan, ts.URL, simulate.Options{Password: "wrong", AllAtOnce: allAtOnce}).Run(context.Background())
		if err == nil || sum.Unanswered != 6 || len(sum.Errors) == 0 {
			t.Fatalf("all at once %v: err %v, unanswered %d, errors %v", allAtOnce, err, sum.Unanswered, sum.Errors)
		}
	}
}

// TestSetPasswords sets a password through the admin route when the server
// has it, and otherwise says to use `prodays user passwd`.
func TestSetPasswords(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	testenv.CreateUser(t, env.DB, "root", "admin", "", "")
	testenv.CreateUser(t, env.DB, "sup.rsk", "supervisor", "", "RSK")
	ctx := context.Background()
	c := simulate.NewClient(env.URL, 1)
	admin, err := c.Login(ctx, "root", testenv.Password, "admin-device")
	if err != nil {
		t.Fatal(err)
	}
	err = c.SetPasswords(ctx, admin, []string{"sup.rsk"}, "another-password-1")
	switch {
	case err == nil:
		if _, err := c.Login(ctx, "sup.rsk", "another-password-1", "d"); err != nil {
			t.Errorf("login with the new password: %v", err)
		}
	case !errors.Is(err, simulate.ErrNoPasswordRoute):
		t.Errorf("got %v, want nil or ErrNoPasswordRoute", err)
	}
}

// TestRunKeepsDeviceSecrets: each virtual phone sends its device_secret
// from its first login on (sync protocol 1.1, Device binding), so a second
// Run of the same Runner logs the same phones in again, while another
// Runner (other installations naming the same device ids) is refused
// device_taken.
func TestRunKeepsDeviceSecrets(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	testenv.CreateUser(t, env.DB, "u1", "admin", "", "")
	testenv.CreateUser(t, env.DB, "u2", "admin", "", "")
	plan := jsonlPlan(t)
	ctx := context.Background()
	opt := simulate.Options{Password: testenv.Password, Seed: 1}
	r := simulate.New(plan, env.URL, opt)
	for run := 1; run <= 2; run++ {
		sum, err := r.Run(ctx)
		if err != nil || sum.Logins != int64(2*run) || len(sum.Errors) > 0 { // counted since New
			t.Fatalf("run %d: %v, %d logins, errors %v", run, err, sum.Logins, sum.Errors)
		}
	}
	var bound int
	if err := env.DB.Read.QueryRow(`SELECT count(*) FROM devices WHERE id IN ('d1', 'd2') AND secret_hash IS NOT NULL`).Scan(&bound); err != nil || bound != 2 {
		t.Fatalf("bound devices: %d %v, want 2", bound, err)
	}
	sum, err := simulate.New(plan, env.URL, opt).Run(ctx)
	if err == nil || sum.Logins != 0 || len(sum.Errors) == 0 || !strings.Contains(sum.Errors[0], "device_taken") {
		t.Fatalf("another runner: %v, %d logins, errors %v (want device_taken)", err, sum.Logins, sum.Errors)
	}
}
