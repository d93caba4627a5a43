package metrics_test

import (
	"context"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"prodays/metrics"
	"prodays/store"
)

func TestScrape(t *testing.T) {
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "prodays.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m := metrics.New(db)
	m.Request("GET", "/api/v1/auth/me", 200, 3*time.Millisecond)
	m.Shed("/api/v1/sync/push")
	m.MutationApplied("attendance.check_in", "applied")
	m.MutationApplied("evil.type"+strings.Repeat("x", 100), "whatever")
	m.PushBatch("committed")
	m.PullPage(1234)
	m.Panic()
	var nilM *metrics.Metrics
	nilM.MutationApplied("attendance.check_in", "applied") // no panic

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	text := string(body)
	for _, want := range []string{
		`prodays_http_requests_total{method="GET",route="/api/v1/auth/me",status="200"} 1`,
		`prodays_http_request_duration_seconds_bucket{method="GET",route="/api/v1/auth/me",le="0.005"} 1`,
		`prodays_http_shed_total{route="/api/v1/sync/push"} 1`,
		`prodays_http_panics_total 1`,
		`prodays_sync_mutations_total{status="applied",type="attendance.check_in"} 1`,
		`prodays_sync_mutations_total{status="other",type="other"} 1`,
		`prodays_sync_push_batches_total{outcome="committed"} 1`,
		`prodays_sync_pull_pages_total 1`,
		`prodays_sync_pull_bytes_total 1234`,
		`prodays_db_file_bytes `,
		`prodays_db_wal_bytes `,
		`prodays_backup_age_seconds +Inf`,
		`prodays_devices_seen_last_hour 0`,
		`prodays_flags_open 0`,
		`prodays_quarantine_mutations 0`,
		`prodays_db_stats_up 1`,
		`go_goroutines `,
		`process_resident_memory_bytes `,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(text)
	}

	// After a backup the age is finite.
	if err := db.Backup(context.Background(), filepath.Join(t.TempDir(), "b.db")); err != nil {
		t.Fatal(err)
	}
	rec = httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if strings.Contains(rec.Body.String(), "prodays_backup_age_seconds +Inf") {
		t.Fatal("backup age still +Inf after a backup")
	}
}

// TestTwoInstances checks that metrics use no global registry.
func TestTwoInstances(t *testing.T) {
	a, b := metrics.New(nil), metrics.New(nil)
	a.PullPage(1)
	rec := httptest.NewRecorder()
	b.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(rec.Body.String(), "prodays_sync_pull_pages_total 0") {
		t.Fatal("instances share counters")
	}
}
