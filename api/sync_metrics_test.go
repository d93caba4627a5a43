package api_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"prodays/internal/synctest"
)

// scrape returns the value of one series of /metrics (the series as
// written in the exposition, name and labels), or -1 when absent.
func scrape(t *testing.T, body, series string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatalf("%s: %v", series, err)
	}
	return v
}

// TestSyncMetrics: push counts mutations by type and result status and
// batches by outcome; pull counts pages and their bytes.
func TestSyncMetrics(t *testing.T) {
	env := syncEnv(t)
	s := env.Login(t, "staff1", "dev-metrics")
	ph := synctest.NewPhone("dev-metrics", eventNow.Add(-time.Hour))
	body := synctest.Body("dev-metrics", eventNow, 0,
		ph.CheckIn("A1", "trainee", synctest.TraineesE1[0]), // applied
		ph.CheckIn("B1", "trainee", synctest.TraineesE3[0]), // rejected: out of scope
		ph.CheckIn("Z9", "speaker", "S1"))                   // rejected: unknown activity
	for i := 0; i < 2; i++ { // the second time: duplicates
		req := newReq(t, "POST", env.URL+"/api/v1/sync/push", s.AccessToken, body, false)
		if st := doStatus(t, req); st != 200 {
			t.Fatalf("push %d: %d", i, st)
		}
	}
	if st := doStatus(t, newReq(t, "POST", env.URL+"/api/v1/sync/push", s.AccessToken, []byte(`{"device_id":`), false)); st != 400 {
		t.Fatalf("bad push: %d", st)
	}
	var pulled int64
	for _, gz := range []bool{false, true} {
		req := newReq(t, "GET", env.URL+"/api/v1/sync/pull?limit=3", s.AccessToken, nil, false)
		req.Header.Set("Accept-Encoding", "identity")
		if gz {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		a, n := doBody(t, req)
		if a != 200 {
			t.Fatalf("pull: %d", a)
		}
		pulled += n
	}
	m := send(t, env, "GET", "/metrics", env.Login(t, "admin", "dev-admin").AccessToken, nil)
	if m.Status != 200 {
		t.Fatalf("/metrics: %d", m.Status)
	}
	b := string(m.Body)
	for series, want := range map[string]float64{
		`prodays_sync_mutations_total{status="applied",type="attendance.check_in"}`:   1,
		`prodays_sync_mutations_total{status="rejected",type="attendance.check_in"}`:  2,
		`prodays_sync_mutations_total{status="duplicate",type="attendance.check_in"}`: 3,
		`prodays_sync_mutations_total{status="applied",type="trainee.register"}`:      0,
		`prodays_sync_push_batches_total{outcome="committed"}`:                        2,
		`prodays_sync_push_batches_total{outcome="refused"}`:                          1,
		`prodays_sync_push_batches_total{outcome="failed"}`:                           0,
		`prodays_sync_pull_pages_total`:                                               2,
		`prodays_sync_pull_bytes_total`:                                               float64(pulled),
	} {
		if got := scrape(t, b, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
}

func doStatus(t *testing.T, req *http.Request) int {
	t.Helper()
	st, _ := doBody(t, req)
	return st
}

// doBody sends req and returns the status and the size of the body once
// decompressed.
func doBody(t *testing.T, req *http.Request) (int, int64) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	n, err := io.Copy(io.Discard, r)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, n
}
