package export_test

import (
	"context"
	"io"
	"os"
	"prodays/internal/dbtest"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"prodays/export"
	"prodays/store"
)

// benchParticipations is the size of the full edition's bilan: 33,515
// meeting + 11,613 visit participations.
const benchParticipations = 45128

// generateEdition fills db with n present trainee participations spread
// over 850 activities (484 meetings, 366 visits) of 300 establishments,
// each with its check-in, all made with SQL.
func generateEdition(tb testing.TB, db *store.DB, n int) {
	tb.Helper()
	_, err := db.Write.Exec(`
INSERT INTO editions (id, name, start_date, end_date, created_at) VALUES (1, 'Pro''Days 2026', '2026-03-21', '2026-03-26', 'x');
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 300)
INSERT INTO establishments (code, name, city, region_code)
 SELECT printf('EFP%04d', i), printf('ISTA Établissement n° %d', i), 'Ville', (SELECT code FROM regions WHERE official_number = 1 + i % 12) FROM seq;
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 330)
INSERT INTO companies (id, name, region_code) SELECT printf('ENT-%04d', i), printf('Société %d S.A.R.L.', i), (SELECT code FROM regions WHERE official_number = 1 + i % 12) FROM seq;
WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < 849)
INSERT INTO activities (id, kind, title, date, start_time, end_time, establishment_code, company_id, region_code, edition_id)
 SELECT printf('ACT-%04d', i), CASE WHEN i < 484 THEN 'meeting' ELSE 'company_visit' END,
  printf('Rencontre stagiaires-professionnels : thème n° %d, « industrie » et décarbonation', i),
  date('2026-03-21', '+' || (i % 6) || ' days'), '09:00', '11:00', printf('EFP%04d', 1 + i % 300),
  CASE WHEN i < 484 THEN NULL ELSE printf('ENT-%04d', 1 + i % 330) END,
  (SELECT code FROM regions WHERE official_number = 1 + i % 12), 1 FROM seq;
`)
	if err != nil {
		tb.Fatal(err)
	}
	_, err = db.Write.Exec(`
WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < ? - 1)
INSERT INTO trainees (id, last_name, first_name, establishment_code, program, group_name, updated_at)
 SELECT printf('F25%04d%05dX', i % 300, i), printf('El Alaoui Benjelloun %d', i), CASE i % 3 WHEN 0 THEN 'Zoé' WHEN 1 THEN 'فاطمة الزهراء' ELSE '=Mehdi' END,
  printf('EFP%04d', 1 + i % 300), 'Développement digital', printf('DEV%03d', i % 200), 'x' FROM seq;
INSERT INTO checkins (id, activity_id, person_kind, person_id, original_person_id, device_id, method, recorded_at, occurred_at, received_at, status)
 SELECT 'c-' || t.id, printf('ACT-%04d', t.rowid % 850), 'trainee', t.id, t.id, 'dev', CASE t.rowid % 3 WHEN 0 THEN 'qr' WHEN 1 THEN 'search' ELSE 'manual' END,
  '2026-03-23T09:10:43.000Z', '2026-03-23T09:10:43.000Z', '2026-03-23T09:10:43.000Z', 'applied' FROM trainees t;
INSERT INTO attendance (activity_id, person_kind, person_id, present, checked_in_at, check_in_ids, updated_at)
 SELECT activity_id, 'trainee', person_id, 1, occurred_at, json_array(id), 'x' FROM checkins;
`, n)
	if err != nil {
		tb.Fatal(err)
	}
}

// peakMeter samples the Go heap in use every 5 ms until stopped; it also
// resets the kernel's peak RSS of the process (clear_refs 5) so that
// VmHWM afterwards is the peak of what ran in between.
type peakMeter struct {
	peak atomic.Uint64
	stop chan struct{}
	done chan struct{}
}

func startPeak() *peakMeter {
	runtime.GC()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	m := &peakMeter{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(m.done)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > m.peak.Load() {
				m.peak.Store(ms.HeapInuse)
			}
			select {
			case <-m.stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return m
}

// Stop returns the peak heap in use and the peak RSS (VmHWM), in MB.
func (m *peakMeter) Stop() (heapMB, rssMB float64) {
	close(m.stop)
	<-m.done
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
				rssMB = float64(kb) / 1024
			}
		}
	}
	return float64(m.peak.Load()) / (1 << 20), rssMB
}

func benchExport(b *testing.B, write func(ctx context.Context, db *store.DB, w io.Writer) (int, error)) {
	db := dbtest.Open(b)
	generateEdition(b, db, benchParticipations)
	ctx := context.Background()
	var heap, rss float64
	for b.Loop() {
		m := startPeak()
		n, err := write(ctx, db, io.Discard)
		h, r := m.Stop()
		heap, rss = max(heap, h), max(rss, r)
		if err != nil {
			b.Fatal(err)
		}
		if n != benchParticipations {
			b.Fatalf("rows: %d", n)
		}
	}
	b.ReportMetric(heap, "peak-heap-MB")
	b.ReportMetric(rss, "peak-RSS-MB")
}

// BenchmarkParticipationsCSV exports the full edition's 45,128
// participations as CSV.
func BenchmarkParticipationsCSV(b *testing.B) {
	benchExport(b, func(ctx context.Context, db *store.DB, w io.Writer) (int, error) {
		return export.WriteParticipationsCSV(ctx, db, w, export.Filter{EditionID: ed1}, ';')
	})
}

// BenchmarkParticipationsXLSX exports the full edition's 45,128
// participations as XLSX.
func BenchmarkParticipationsXLSX(b *testing.B) {
	benchExport(b, func(ctx context.Context, db *store.DB, w io.Writer) (int, error) {
		return export.WriteParticipationsXLSX(ctx, db, w, export.Filter{EditionID: ed1})
	})
}
