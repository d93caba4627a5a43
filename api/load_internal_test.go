package api

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"prodays/internal/dbtest"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"prodays/store"
)

// TestLoadShedding drives many more concurrent writes than SQLite's one
// writer can take, over loopback, against a write route behind
// shedWrites, and reports what clients saw: the surplus must get 503 with
// Retry-After at once (not errors or timeouts), the accepted writes must
// stay fast, and memory must stay flat. It runs a second phase without
// shedding for comparison.
//
// It is skipped unless PRODAYS_LOADTEST=1 (and never in -short mode):
//
//	PRODAYS_LOADTEST=1 go test ./api/ -run TestLoadShedding -v
//
// PRODAYS_LOADTEST_CLIENTS and PRODAYS_LOADTEST_SECONDS tune it (default
// 300 clients, 10 s a phase).
func TestLoadShedding(t *testing.T) {
	if testing.Short() || os.Getenv("PRODAYS_LOADTEST") != "1" {
		t.Skip("load test: set PRODAYS_LOADTEST=1 (not in -short mode)")
	}
	clients := envIntDefault("PRODAYS_LOADTEST_CLIENTS", 300)
	dur := time.Duration(envIntDefault("PRODAYS_LOADTEST_SECONDS", 10)) * time.Second
	for _, phase := range []struct {
		name string
		shed ShedOptions
	}{
		{"shedding (defaults: 64 running, 512 waiting, 2 s wait)", ShedOptions{}},
		{"no shedding (unbounded queue)", ShedOptions{Concurrent: 100000, Queue: 100000, Wait: time.Hour}},
	} {
		t.Run(phase.name, func(t *testing.T) {
			r := loadPhase(t, phase.shed, clients, dur)
			t.Logf("%d clients, %s: %d requests, %d ok (%.0f/s), %d shed 503 (%d with Retry-After), %d other status, %d client errors/timeouts",
				clients, dur, r.total, r.ok, float64(r.ok)/dur.Seconds(), r.shed, r.retryAfter, r.other, r.errors)
			t.Logf("latency ok: p50 %v p99 %v max %v; 503: p50 %v p99 %v max %v",
				pct(r.okLat, 50), pct(r.okLat, 99), pct(r.okLat, 100), pct(r.shedLat, 50), pct(r.shedLat, 99), pct(r.shedLat, 100))
			t.Logf("memory: heap in use %.1f–%.1f MiB, sys %.1f–%.1f MiB, goroutines %d–%d (%d samples)",
				r.heapMin/1048576, r.heapMax/1048576, r.sysMin/1048576, r.sysMax/1048576, r.gMin, r.gMax, r.samples)
			if r.errors > 0 {
				t.Errorf("%d client errors or timeouts", r.errors)
			}
			if phase.shed.Queue == 0 {
				if r.shed == 0 || r.retryAfter != r.shed {
					t.Errorf("shed %d, with Retry-After %d: want shedding with Retry-After", r.shed, r.retryAfter)
				}
				if p := pct(r.okLat, 99); p > 5*time.Second {
					t.Errorf("accepted writes p99 %v: the queue is not bounded", p)
				}
			}
		})
	}
}

type loadResult struct {
	total, ok, shed, retryAfter, other, errors int64
	okLat, shedLat                             []time.Duration
	heapMin, heapMax, sysMin, sysMax           float64
	gMin, gMax, samples                        int
}

func loadPhase(t *testing.T, shed ShedOptions, clients int, dur time.Duration) loadResult {
	db := dbtest.Open(t)
	s := &Server{DB: db, Logger: slog.New(slog.DiscardHandler), Shed: shed}
	e := s.Handler()
	// A push-like write: one transaction of 20 rows (audit and change log),
	// FULL synchronous like production.
	var seq atomic.Int64
	e.POST("/api/v1/test/write", func(c echo.Context) error {
		ctx := c.Request().Context()
		err := db.WithTx(ctx, func(tx *sql.Tx) error {
			for i := 0; i < 10; i++ {
				n := seq.Add(1)
				if err := store.Audit(ctx, tx, time.Now(), store.AuditEntry{Action: "load.write", Target: fmt.Sprint(n)}); err != nil {
					return err
				}
				if err := store.RecordChange(ctx, tx, store.Change{Entity: "load", ID: fmt.Sprint(n), Op: "upsert"}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]string{"status": "applied"})
	}, s.shedWrites)
	ts := httptest.NewServer(e) // 127.0.0.1 only
	defer ts.Close()

	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 15 * time.Second}

	var r loadResult
	var mu sync.Mutex
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()

	// Memory sampler.
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tk := time.NewTicker(250 * time.Millisecond)
		defer tk.Stop()
		r.heapMin, r.sysMin, r.gMin = 1e18, 1e18, 1<<30
		for {
			select {
			case <-stopSampling:
				return
			case <-tk.C:
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			g := runtime.NumGoroutine()
			r.heapMin, r.heapMax = min(r.heapMin, float64(ms.HeapInuse)), max(r.heapMax, float64(ms.HeapInuse))
			r.sysMin, r.sysMax = min(r.sysMin, float64(ms.Sys)), max(r.sysMax, float64(ms.Sys))
			r.gMin, r.gMax = min(r.gMin, g), max(r.gMax, g)
			r.samples++
		}
	}()

	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				start := time.Now()
				req, _ := http.NewRequest("POST", ts.URL+"/api/v1/test/write", nil)
				resp, err := hc.Do(req)
				d := time.Since(start)
				mu.Lock()
				r.total++
				switch {
				case err != nil:
					r.errors++
				case resp.StatusCode == http.StatusOK:
					r.ok++
					r.okLat = append(r.okLat, d)
				case resp.StatusCode == http.StatusServiceUnavailable:
					r.shed++
					r.shedLat = append(r.shedLat, d)
					if resp.Header.Get("Retry-After") != "" {
						r.retryAfter++
					}
				default:
					r.other++
				}
				mu.Unlock()
				if resp != nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == http.StatusServiceUnavailable {
						// Wait Retry-After, as a phone does.
						ra, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
						select {
						case <-ctx.Done():
						case <-time.After(time.Duration(ra) * time.Second):
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	close(stopSampling)
	<-sampled
	return r
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := (len(s) - 1) * p / 100
	return s[i].Round(time.Millisecond)
}

func envIntDefault(name string, def int) int {
	var n int
	if _, err := fmt.Sscan(os.Getenv(name), &n); err == nil && n > 0 {
		return n
	}
	return def
}
