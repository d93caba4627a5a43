package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"prodays"
	"prodays/internal/synctest"
	"prodays/internal/testenv"
	"prodays/replicate"
	"prodays/store"
	"prodays/sync/protocol"
)

const (
	repDevice   = "0190d5a4-8f0c-7a11-9c3b-0000000007a1"
	repActivity = "TODAY"
	repToken    = "replication-metrics-token-0123456789"
)

// repSeed seeds synctest's roster, an open activity of E1 dated today
// (Casablanca) and staff1 with a password.
func repSeed(tb testing.TB, db *store.DB) {
	synctest.Seed(tb, db)
	if _, err := db.Write.Exec(`INSERT INTO activities (id, kind, title, date, start_time, end_time, establishment_code, region_code, capacity)
		VALUES (?, 'meeting', 'Today', ?, '00:00', '23:59', 'E1', 'RSK', 50)`, repActivity, protocol.LocalDay(time.Now(), prodays.Casablanca)); err != nil {
		tb.Fatal(err)
	}
	testenv.CreateUser(tb, db, "staff1", "staff", "E1", "")
}

// repPush pushes one check-in per trainee, in one batch, and wants each
// applied.
func repPush(t *testing.T, s *testenv.Session, ph *synctest.Phone, trainees ...string) {
	t.Helper()
	var ms []protocol.Mutation
	for _, tr := range trainees {
		m := ph.CheckIn(repActivity, "trainee", tr)
		m.RecordedAt = time.Now().Add(-time.Minute)
		ms = append(ms, m)
	}
	a := s.Env.Raw(t, "POST", "/api/v1/sync/push", s.AccessToken, "application/json", synctest.Body(s.DeviceID, time.Now(), len(ms), ms...))
	if a.Status != http.StatusOK {
		t.Fatalf("push: status %d %s", a.Status, a.Body)
	}
	var resp protocol.PushResponse
	if err := json.Unmarshal(a.Body, &resp); err != nil {
		t.Fatal(err)
	}
	for i, r := range resp.Results {
		if r.Status != protocol.StatusApplied {
			t.Fatalf("check-in %d: %s %s %s", i, r.Status, r.Code, r.Message)
		}
	}
}

// checkins counts the check-ins of the database file at path (read-only).
func checkins(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM checkins`).Scan(&n); err != nil {
		t.Fatalf("count check-ins of %s: %v", path, err)
	}
	return n
}

// replicaCheckins restores the replica's newest state into a new file and
// counts its check-ins (-1 while it holds no database).
func replicaCheckins(t *testing.T, url string) int {
	t.Helper()
	out := filepath.Join(t.TempDir(), "probe.db")
	if _, err := replicate.RestoreTo(context.Background(), url, time.Time{}, out, nil); err != nil {
		return -1
	}
	return checkins(t, out)
}

// waitReplica polls the replica until it holds want check-ins.
func waitReplica(t *testing.T, url string, want int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	got := -1
	for time.Now().Before(deadline) {
		if got = replicaCheckins(t, url); got == want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("replica %s: %d check-ins after 30 s, want %d", url, got, want)
}

// removeDBFiles deletes a database and its -wal and -shm (a lost disk).
func removeDBFiles(t *testing.T, path string) {
	t.Helper()
	for _, s := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(path + s); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
}

// TestReplicateKillRestore: a server replicating to file://DIR takes
// check-ins; once the replica has them, the server is SIGKILLed and its
// database deleted; restore --from brings every check-in back, restore
// --from --at brings the older state; the restarted server keeps
// replicating, and a graceful stop uploads its last commit first.
func TestReplicateKillRestore(t *testing.T) {
	ctx := context.Background()
	url := "file://" + filepath.Join(t.TempDir(), "replica")
	env := testenv.Process(t, testenv.ProcessOptions{Seed: repSeed, Args: []string{"--replicate", url}})
	env.DB.Close() // the test's own connection would keep the database in use
	staff := env.Login(t, "staff1", repDevice)
	ph := synctest.NewPhone(repDevice, time.Now().Add(-time.Hour))
	tr := synctest.TraineesE1

	repPush(t, staff, ph, tr[0:5]...)
	waitReplica(t, url, 5)
	older := time.Now().UTC()
	time.Sleep(1100 * time.Millisecond) // LTX times have millisecond precision; keep --at clear of the next ones
	repPush(t, staff, ph, tr[5:8]...)
	waitReplica(t, url, 8)

	env.Proc.Kill()
	removeDBFiles(t, env.Proc.DB)

	var out, errb bytes.Buffer
	past := filepath.Join(t.TempDir(), "past.db")
	// Litestream logs to slog.Default when given no logger: catch it there.
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewTextHandler(&errb, nil)))
	if err := run(ctx, []string{"restore", "--from", url, "--at", older.Format(time.RFC3339Nano), "--db", past}, nil, &out, &errb); err != nil {
		t.Fatalf("restore --at: %v %s", err, errb.String())
	}
	if got := checkins(t, past); got != 5 {
		t.Errorf("restore --at %s: %d check-ins, want 5 (the older state)", older.Format(time.RFC3339Nano), got)
	}
	// It says the state's own time (its last commit, before --at), and no
	// gap: the next transaction's level-0 file is kept (L0Retention).
	said := strings.Fields(strings.SplitAfter(out.String(), "its state at ")[1])[0]
	if st, err := time.Parse(time.RFC3339Nano, said); err != nil || st.After(older) || older.Sub(st) > 30*time.Second {
		t.Errorf("restore --at %s said state time %q (%v): want the last commit before it", older.Format(time.RFC3339Nano), said, err)
	}
	if strings.Contains(errb.String(), "integrity check passed") {
		t.Errorf("restore --at let Litestream's info line through: %s", errb.String())
	}
	if strings.Contains(errb.String(), "holds no state") {
		t.Errorf("restore --at with level-0 files kept warned: %s", errb.String())
	}
	errb.Reset()
	future := filepath.Join(t.TempDir(), "future.db")
	if err := run(ctx, []string{"restore", "--from", url, "--at", "2030-01-01T00:00:00Z", "--db", future}, nil, &out, &errb); !errors.Is(err, errUsageShown) || !strings.Contains(errb.String(), "is in the future") {
		t.Errorf("restore --at 2030: %v %q, want a usage error", err, errb.String())
	}
	if _, err := os.Stat(future); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("restore --at 2030 wrote %s: %v", future, err)
	}
	if err := run(ctx, []string{"restore", "--from", url, "--db", env.Proc.DB}, nil, &out, &errb); err != nil {
		t.Fatalf("restore --from: %v %s", err, errb.String())
	}
	if got := checkins(t, env.Proc.DB); got != 8 {
		t.Fatalf("restored database: %d check-ins, want 8", got)
	}
	if !strings.Contains(out.String(), "restored its newest state from "+url) {
		t.Errorf("restore said %q", out.String())
	}

	env.Proc.Restart(t)
	var ready struct {
		Status      string             `json:"status"`
		Replication string             `json:"replication"`
		Replicas    []replicate.Status `json:"replicas"`
	}
	if st := env.Do(t, "GET", "/readyz", "", nil, &ready); st != http.StatusOK || ready.Replication != "ok" || len(ready.Replicas) != 1 || ready.Replicas[0].URL != url {
		t.Fatalf("readyz after restore: %d %+v", st, ready)
	}
	// SIGTERM right after a commit: the server uploads it before exiting.
	repPush(t, staff, ph, tr[8])
	env.Proc.Stop()
	if got := checkins(t, env.Proc.DB); got != 9 {
		t.Fatalf("after restart: %d check-ins, want 9", got)
	}
	if got := replicaCheckins(t, url); got != 9 {
		t.Fatalf("replica after a graceful shutdown: %d check-ins, want 9 (not flushed)\n%s", got, env.Proc.Log)
	}
}

// readyz returns /readyz's replication summary and replicas.
func readyz(t *testing.T, env *testenv.Env) (string, []replicate.Status) {
	t.Helper()
	var ready struct {
		Status      string             `json:"status"`
		Replication string             `json:"replication"`
		Replicas    []replicate.Status `json:"replicas"`
	}
	if st := env.Do(t, "GET", "/readyz", "", nil, &ready); st != http.StatusOK || ready.Status != "ready" {
		t.Fatalf("readyz: %d %+v (a replica never makes the server unready)", st, ready)
	}
	return ready.Replication, ready.Replicas
}

// waitReplication polls /readyz until replication is want.
func waitReplication(t *testing.T, env *testenv.Env, want string) []replicate.Status {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, reps := readyz(t, env)
		if got == want {
			return reps
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz: replication %q after 60 s, want %q (%+v)", got, want, reps)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// metricLine returns the line of /metrics that starts with prefix.
func metricLine(t *testing.T, env *testenv.Env, prefix string) string {
	t.Helper()
	a := env.Raw(t, "GET", "/metrics", repToken, "", nil)
	if a.Status != http.StatusOK {
		t.Fatalf("metrics: %d", a.Status)
	}
	for _, l := range strings.Split(string(a.Body), "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	t.Fatalf("metrics: no line %q in\n%s", prefix, a.Body)
	return ""
}

// logCount counts the server's log lines whose msg is msg.
func logCount(t *testing.T, env *testenv.Env, msg string) int {
	t.Helper()
	n := 0
	for _, line := range strings.Split(env.Proc.Log.String(), "\n") {
		var l struct {
			Msg string `json:"msg"`
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == msg {
			n++
		}
	}
	return n
}

// TestReplicaDown: while the replica cannot be written (its folder
// replaced by a file), pushes are still applied, /readyz says the replica
// is failing, prodays_replica_up is 0 and the lag grows, and the log has
// one line for the change of state, not one per upload; once the folder
// is back, the replica catches up and one line says so.
func TestReplicaDown(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "replica")
	url := "file://" + dir
	env := testenv.Process(t, testenv.ProcessOptions{Seed: repSeed, Args: []string{"--replicate", url},
		Env: []string{"PRODAYS_LOG_LEVEL=info", "PRODAYS_METRICS_TOKEN=" + repToken}})
	staff := env.Login(t, "staff1", repDevice)
	ph := synctest.NewPhone(repDevice, time.Now().Add(-time.Hour))
	tr := synctest.TraineesE1
	label := `{replica="` + url + `"}`

	repPush(t, staff, ph, tr[0])
	waitReplica(t, url, 1)
	if l := metricLine(t, env, "prodays_replica_up"+label); l != "prodays_replica_up"+label+" 1" {
		t.Errorf("metric while ok: %q", l)
	}

	if err := os.Rename(dir, dir+".away"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, []byte("not a folder"), 0o600); err != nil {
		t.Fatal(err)
	}
	repPush(t, staff, ph, tr[1])
	reps := waitReplication(t, env, "failing")
	if reps[0].OK || reps[0].Error == "" {
		t.Errorf("failing replica: %+v", reps[0])
	}
	for _, trainee := range tr[2:6] { // more writes, more failed uploads
		repPush(t, staff, ph, trainee)
		time.Sleep(300 * time.Millisecond)
	}
	if got := checkins(t, env.Proc.DB); got != 6 {
		t.Fatalf("server with its replica down: %d check-ins, want 6", got)
	}
	if l := metricLine(t, env, "prodays_replica_up"+label); l != "prodays_replica_up"+label+" 0" {
		t.Errorf("metric while failing: %q", l)
	}
	var lag float64
	if _, err := fmt.Sscan(strings.Fields(metricLine(t, env, "prodays_replica_lag_seconds"+label))[1], &lag); err != nil || lag < 1 {
		t.Errorf("lag while failing for over a second: %v %v", lag, err)
	}
	if n := logCount(t, env, "replica failing; the server keeps accepting writes and retries"); n != 1 {
		t.Errorf("%d log lines for the replica failing, want 1:\n%s", n, env.Proc.Log)
	}

	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(dir+".away", dir); err != nil {
		t.Fatal(err)
	}
	waitReplication(t, env, "ok")
	waitReplica(t, url, 6)
	if n := logCount(t, env, "replica ok again"); n != 1 {
		t.Errorf("%d log lines for the replica back, want 1", n)
	}
}

// TestReplicateFlag: PRODAYS_REPLICATE takes several URLs separated by
// commas or spaces; --replicate replaces them and may be repeated; a URL
// that is not one stops serve before it listens.
func TestReplicateFlag(t *testing.T) {
	urls := replicate.SplitURLs("file:///a, s3://b/c?endpoint=http://h:9000 file:///d")
	if want := []string{"file:///a", "s3://b/c?endpoint=http://h:9000", "file:///d"}; strings.Join(urls, "|") != strings.Join(want, "|") {
		t.Fatalf("SplitURLs: %q, want %q", urls, want)
	}
	f := &urlsFlag{urls: &urls}
	for _, v := range []string{"file:///x", "file:///y,file:///z"} {
		if err := f.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	if got := strings.Join(urls, "|"); got != "file:///x|file:///y|file:///z" {
		t.Fatalf("flags over the environment: %q", got)
	}
	if err := f.Set(" , "); err == nil {
		t.Error("an empty --replicate was taken")
	}

	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "p.db"), "--replicate", "ftp://host/x"}, nil, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), `unsupported replica URL scheme: "ftp"`) || strings.Contains(out.String(), "listening") {
		t.Fatalf("serve with a bad replica URL: %v, out %q", err, out.String())
	}
}

// TestReplicaNeverWorked: a replica that cannot be written from the start
// (a path under /dev/null) is behind by everything since the server
// started: its lag grows past a second instead of staying at 0, so the
// "lag over 60 s" alert fires.
func TestReplicaNeverWorked(t *testing.T) {
	url := "file:///dev/null/x"
	env := testenv.Process(t, testenv.ProcessOptions{Seed: repSeed, Args: []string{"--replicate", url},
		Env: []string{"PRODAYS_METRICS_TOKEN=" + repToken}})
	staff := env.Login(t, "staff1", repDevice)
	repPush(t, staff, synctest.NewPhone(repDevice, time.Now().Add(-time.Hour)), synctest.TraineesE1[0])
	label := `{replica="` + url + `"}`
	deadline := time.Now().Add(30 * time.Second)
	for {
		var lag float64
		l := metricLine(t, env, "prodays_replica_lag_seconds"+label)
		if _, err := fmt.Sscan(strings.Fields(l)[1], &lag); err != nil {
			t.Fatalf("lag metric %q: %v", l, err)
		}
		if lag >= 1.5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lag of a replica that never worked: %v after 30 s, want it growing", lag)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if l := metricLine(t, env, "prodays_replica_up"+label); l != "prodays_replica_up"+label+" 0" {
		t.Errorf("metric of a replica that never worked: %q", l)
	}
}
