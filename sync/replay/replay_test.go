// Package replay_test replays the office's recorded check-ins
// (shared/datasets/*/checkins.jsonl) through the real HTTP push and checks
// that the attendance table gives exactly expected.json's figures.
package replay_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"prodays"
	"prodays/auth"
	"prodays/importer"
	"prodays/internal/shared"
	"prodays/internal/testenv"
	"prodays/store"
	"prodays/sync/protocol"
)

// line is one line of checkins.jsonl.
type line struct {
	DeviceID     string `json:"device_id"`
	Username     string `json:"username"`
	Batch        int    `json:"batch"`
	Seq          int64  `json:"seq"`
	ActivityID   string `json:"activity_id"`
	TraineeID    string `json:"trainee_id"`
	SpeakerID    string `json:"speaker_id"`
	Action       string `json:"action"`
	RecordedAt   string `json:"recorded_at"`
	Method       string `json:"method"`
	ClockErrorMS *int64 `json:"clock_error_ms"`
}

// mutationID is the idempotency key of a line: a name-based UUID (v5) of
// its device and seq, so that a retry sends the same id.
func mutationID(device string, seq int64) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte(fmt.Sprintf("prodays:%s:%d", device, seq))).String()
}

type batchKey struct {
	device string
	batch  int
}

type batch struct {
	key        batchKey
	user       string
	clockError int64
	mutations  []map[string]any
}

// load converts checkins.jsonl to batches, in the file's arrival order.
func load(tb testing.TB, path string) []*batch {
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var lines []line
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			tb.Fatal(err)
		}
		lines = append(lines, l)
	}
	// Earlier check-ins of each (device, activity, person), for the undos.
	type pk struct{ device, activity, person string }
	checkIns := map[pk][]line{}
	for _, l := range lines {
		if l.Action == "check_in" {
			k := pk{l.DeviceID, l.ActivityID, l.TraineeID + "|" + l.SpeakerID}
			checkIns[k] = append(checkIns[k], l)
		}
	}
	var out []*batch
	byKey := map[batchKey]*batch{}
	for _, l := range lines {
		k := batchKey{l.DeviceID, l.Batch}
		b := byKey[k]
		if b == nil {
			b = &batch{key: k, user: l.Username}
			if l.ClockErrorMS != nil {
				b.clockError = *l.ClockErrorMS
			}
			byKey[k] = b
			out = append(out, b)
		}
		person := map[string]string{"kind": "trainee", "id": l.TraineeID}
		if l.SpeakerID != "" {
			person = map[string]string{"kind": "speaker", "id": l.SpeakerID}
		}
		m := map[string]any{"id": mutationID(l.DeviceID, l.Seq), "seq": l.Seq, "recorded_at": l.RecordedAt,
			"activity_id": l.ActivityID, "person": person}
		if l.Action == "check_in" {
			m["type"], m["method"] = protocol.TypeCheckIn, l.Method
		} else {
			m["type"] = protocol.TypeUndo
			undoes := []string{}
			for _, c := range checkIns[pk{l.DeviceID, l.ActivityID, l.TraineeID + "|" + l.SpeakerID}] {
				if c.Seq < l.Seq {
					undoes = append(undoes, mutationID(c.DeviceID, c.Seq))
				}
			}
			m["undoes"] = undoes
		}
		b.mutations = append(b.mutations, m)
	}
	return out
}

// tokens issues an access token per device directly (an argon2id login per
// device would take most of the time budget) and registers the devices.
func tokens(tb testing.TB, db *store.DB, batches []*batch) map[string]string {
	keys, err := auth.NewKeyring(testenv.TestKey)
	if err != nil {
		tb.Fatal(err)
	}
	iss := &auth.Tokens{Keys: keys, AccessTTL: time.Hour}
	out := map[string]string{}
	now := store.FormatTime(time.Now())
	for _, b := range batches {
		if _, ok := out[b.key.device]; ok {
			continue
		}
		var role string
		var est, reg *string
		var sv int64
		if err := db.Read.QueryRow(`SELECT u.role, u.establishment_code, COALESCE(u.region_code, e.region_code), u.scope_version FROM users u
			LEFT JOIN establishments e ON e.code = u.establishment_code WHERE u.username = ?`, b.user).Scan(&role, &est, &reg, &sv); err != nil {
			tb.Fatalf("user %s: %v", b.user, err)
		}
		p := prodays.Principal{Username: b.user, DeviceID: b.key.device, Scope: prodays.Scope{Role: role}}
		if est != nil {
			p.EstablishmentCode = *est
		}
		if reg != nil {
			p.RegionCode = *reg
		}
		tok, _, err := iss.Issue(p, sv)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := db.Write.Exec(`INSERT INTO devices (id, username, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?)`, b.key.device, b.user, now, now); err != nil {
			tb.Fatal(err)
		}
		out[b.key.device] = tok
	}
	return out
}

// statusCounts counts the results of the replay by status and code.
type statusCounts struct {
	mu sync.Mutex
	n  map[string]int
}

func (s *statusCounts) add(r protocol.Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := r.Status
	if r.Code != "" {
		k += ":" + r.Code
	}
	s.n[k]++
}

var gzipPool = sync.Pool{New: func() any { return gzip.NewWriter(io.Discard) }}

func pushBatch(tb testing.TB, url, token string, b *batch, counts *statusCounts) {
	body, _ := json.Marshal(map[string]any{"device_id": b.key.device, "client_time": time.Now().Add(time.Duration(b.clockError) * time.Millisecond).Format(time.RFC3339Nano),
		"app_version": "replay", "outbox_size": len(b.mutations), "mutations": b.mutations})
	var gz bytes.Buffer
	zw := gzipPool.Get().(*gzip.Writer)
	zw.Reset(&gz)
	zw.Write(body)
	zw.Close()
	gzipPool.Put(zw)
	req, _ := http.NewRequest("POST", url+"/api/v1/sync/push", &gz)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Error(err)
		return
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		tb.Errorf("push %v: %d %s", b.key, resp.StatusCode, data)
		return
	}
	var pr protocol.PushResponse
	if err := json.Unmarshal(data, &pr); err != nil || len(pr.Results) != len(b.mutations) {
		tb.Errorf("push %v: %v %d results", b.key, err, len(pr.Results))
		return
	}
	for _, r := range pr.Results {
		counts.add(r)
	}
}

// replay pushes every batch in the file's arrival order, each device's
// batches in order on one of workers concurrent clients.
func replay(tb testing.TB, env *testenv.Env, batches []*batch, workers int) *statusCounts {
	toks := tokens(tb, env.DB, batches)
	queues := make([][]*batch, workers)
	for _, b := range batches {
		h := fnv.New32a()
		h.Write([]byte(b.key.device))
		w := int(h.Sum32()) % workers
		queues[w] = append(queues[w], b)
	}
	counts := &statusCounts{n: map[string]int{}}
	var wg sync.WaitGroup
	for _, q := range queues {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, b := range q {
				pushBatch(tb, env.URL, toks[b.key.device], b, counts)
			}
		}()
	}
	wg.Wait()
	return counts
}

// counts are expected.json's per-region and per-day figures.
type counts struct {
	MeetingParticipations int `json:"meeting_participations"`
	VisitParticipations   int `json:"visit_participations"`
	Beneficiaries         int `json:"beneficiaries"`
}

// figures are the keys of expected.json the replay must reproduce.
type figures struct {
	MeetingParticipations    int               `json:"meeting_participations"`
	VisitParticipations      int               `json:"visit_participations"`
	DistinctTrainees         int               `json:"distinct_trainees"`
	SpeakersPresent          int               `json:"speakers_present"`
	SpeakerParticipations    int               `json:"speaker_participations"`
	OrganizationsRepresented int               `json:"organizations_represented"`
	MeetingsHeld             int               `json:"meetings_held"`
	VisitsHeld               int               `json:"visits_held"`
	CompaniesVisited         int               `json:"companies_visited"`
	VisitEstablishments      int               `json:"visit_establishments"`
	PerRegion                map[string]counts `json:"per_region"`
	PerDay                   map[string]counts `json:"per_day"`
}

// measure computes the figures by SQL over the attendance table.
func measure(tb testing.TB, db *store.DB) figures {
	one := func(q string) int {
		var n int
		if err := db.Read.QueryRow(q).Scan(&n); err != nil {
			tb.Fatalf("%s: %v", q, err)
		}
		return n
	}
	const tp = `FROM attendance at JOIN activities a ON a.id = at.activity_id WHERE at.present = 1 AND at.person_kind = 'trainee'`
	const sp = `FROM attendance at JOIN speakers s ON s.id = at.person_id WHERE at.present = 1 AND at.person_kind = 'speaker'`
	f := figures{
		MeetingParticipations:    one(`SELECT count(*) ` + tp + ` AND a.kind = 'meeting'`),
		VisitParticipations:      one(`SELECT count(*) ` + tp + ` AND a.kind = 'company_visit'`),
		DistinctTrainees:         one(`SELECT count(DISTINCT at.person_id) ` + tp),
		SpeakersPresent:          one(`SELECT count(DISTINCT at.person_id) ` + sp),
		SpeakerParticipations:    one(`SELECT count(*) ` + sp),
		OrganizationsRepresented: one(`SELECT count(DISTINCT s.organization_id) ` + sp),
		MeetingsHeld:             one(`SELECT count(DISTINCT a.id) ` + tp + ` AND a.kind = 'meeting'`),
		VisitsHeld:               one(`SELECT count(DISTINCT a.id) ` + tp + ` AND a.kind = 'company_visit'`),
		CompaniesVisited:         one(`SELECT count(DISTINCT a.company_id) ` + tp + ` AND a.kind = 'company_visit'`),
		VisitEstablishments: one(`SELECT count(DISTINCT t.establishment_code) FROM attendance at JOIN activities a ON a.id = at.activity_id
			JOIN trainees t ON t.id = at.person_id WHERE at.present = 1 AND at.person_kind = 'trainee' AND a.kind = 'company_visit'`),
		PerRegion: map[string]counts{}, PerDay: map[string]counts{},
	}
	// Participations per region and per day (zeros for empty keys).
	perKey := func(col string, into map[string]counts) {
		rows, err := db.Read.Query(`SELECT a.` + col + `, a.kind, count(*) ` + tp + ` GROUP BY 1, 2`)
		if err != nil {
			tb.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var k, kind string
			var n int
			rows.Scan(&k, &kind, &n)
			c := into[k]
			if kind == prodays.KindMeeting {
				c.MeetingParticipations += n
			} else {
				c.VisitParticipations += n
			}
			c.Beneficiaries += n
			into[k] = c
		}
	}
	perKey("region_code", f.PerRegion)
	perKey("date", f.PerDay)
	return f
}

func expected(tb testing.TB, dir string) figures {
	b, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var f figures
	if err := json.Unmarshal(b, &f); err != nil {
		tb.Fatal(err)
	}
	// Keys with zero participations are left out of both sides.
	for _, m := range []map[string]counts{f.PerRegion, f.PerDay} {
		for k, c := range m {
			if c == (counts{}) {
				delete(m, k)
			}
		}
	}
	return f
}

func testReplay(t *testing.T, sub string) {
	dir := shared.Dir(t, "datasets/"+sub)
	env := testenv.New(t, testenv.Options{})
	start := time.Now()
	if _, err := importer.ImportDir(context.Background(), env.DB, dir, importer.Options{}); err != nil {
		t.Fatalf("import: %v", err)
	}
	imported := time.Since(start)
	batches := load(t, filepath.Join(dir, "checkins.jsonl"))
	start = time.Now()
	c := replay(t, env, batches, 4)
	pushed := time.Since(start)
	n := 0
	for _, b := range batches {
		n += len(b.mutations)
	}
	t.Logf("%s: import %v; %d mutations in %d batches pushed in %v (%.0f mutations/s); results %v",
		sub, imported.Round(time.Millisecond), n, len(batches), pushed.Round(time.Millisecond), float64(n)/pushed.Seconds(), c.n)
	got, want := measure(t, env.DB), expected(t, dir)
	if !reflect.DeepEqual(got, want) {
		gj, _ := json.MarshalIndent(got, "", " ")
		wj, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("figures differ from expected.json:\ngot  %s\nwant %s", gj, wj)
	}
	snapshotPull(t, env)
	// Re-sending batches (the answers were lost) changes nothing
	// (exactly-once effect): every batch of the small edition, one in
	// eight of the full one (time budget).
	resend := batches
	if len(batches) > 1000 {
		resend = nil
		for i := 0; i < len(batches); i += 8 {
			resend = append(resend, batches[i])
		}
	}
	c2 := replay2(t, env, resend)
	if again := measure(t, env.DB); !reflect.DeepEqual(again, got) {
		t.Errorf("figures changed after re-sending every batch")
	}
	for k, v := range c2.n {
		if k[:9] != "duplicate" {
			t.Errorf("re-sent batches: %d results %s, want only duplicates", v, k)
		}
	}
}

// replay2 re-sends every batch (the answers were lost).
func replay2(t *testing.T, env *testenv.Env, batches []*batch) *statusCounts {
	env.DB.Write.Exec(`DELETE FROM devices`)
	return replay(t, env, batches, 4)
}

func TestReplaySmallNasty(t *testing.T) { testReplay(t, "small-nasty") }

func TestReplayProdays2026(t *testing.T) {
	if testing.Short() {
		t.Skip("full edition replay in -short mode")
	}
	testReplay(t, "prodays-2026")
}

// snapshotPull times the first pull (a full snapshot, pages of 5,000) of a
// staff user of the region with the most trainees, through HTTP.
func snapshotPull(t *testing.T, env *testenv.Env) {
	var user, device string
	var trainees int
	err := env.DB.Read.QueryRow(`SELECT u.username, (SELECT count(*) FROM trainees t JOIN establishments e2 ON e2.code = t.establishment_code WHERE e2.region_code = e.region_code) n
		FROM users u JOIN establishments e ON e.code = u.establishment_code WHERE u.role = 'staff' ORDER BY n DESC, u.username LIMIT 1`).Scan(&user, &trainees)
	if err != nil {
		t.Fatal(err)
	}
	device = "snapshot-" + user
	toks := tokens(t, env.DB, []*batch{{key: batchKey{device: device}, user: user}})
	start := time.Now()
	cur, pages, n := "", 0, 0
	for {
		var p protocol.PullResponse
		if st := env.Do(t, "GET", "/api/v1/sync/pull?limit=5000&cursor="+cur, toks[device], nil, &p); st != 200 {
			t.Fatalf("pull: %d", st)
		}
		pages++
		n += len(p.Changes)
		cur = p.Cursor
		if !p.HasMore {
			break
		}
	}
	t.Logf("first pull of %s (region of %d trainees): %d changes in %d pages, %v", user, trainees, n, pages, time.Since(start).Round(time.Millisecond))
}
