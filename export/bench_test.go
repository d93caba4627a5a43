package export_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"prodays"
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

// exportFuncs are the exports the benchmarks measure, by name.
var exportFuncs = map[string]func(ctx context.Context, db *store.DB, w io.Writer) (int, error){
	"csv": func(ctx context.Context, db *store.DB, w io.Writer) (int, error) {
		return export.WriteParticipationsCSV(ctx, db, w, export.Filter{Scope: prodays.AdminScope(), EditionID: ed1}, ';')
	},
	"xlsx": func(ctx context.Context, db *store.DB, w io.Writer) (int, error) {
		return export.WriteParticipationsXLSX(ctx, db, w, export.Filter{Scope: prodays.AdminScope(), EditionID: ed1})
	},
}

// childEnv names the export a child process runs (see TestExportChild):
// "format:database path".
const childEnv = "PRODAYS_EXPORT_CHILD"

// childResult is what a child process measured, printed as JSON on a line
// of its own after childPrefix.
type childResult struct {
	Rows    int
	Seconds float64
	HeapMB  float64
	RSSMB   float64
}

const childPrefix = "EXPORT-CHILD-RESULT "

// TestExportChild is the export run in a process of its own by the
// benchmarks, so that the peak RSS measured is the export's (the process
// opens the database, exports to io.Discard and exits) and not that of the
// fixture generation in the benchmark's process. Without childEnv it does
// nothing.
func TestExportChild(t *testing.T) {
	spec := os.Getenv(childEnv)
	if spec == "" {
		t.Skip("run by the benchmarks in a child process")
	}
	format, path, _ := strings.Cut(spec, ":")
	write := exportFuncs[format]
	if write == nil {
		t.Fatalf("format %q", format)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m := startPeak()
	start := time.Now()
	n, err := write(ctx, db, io.Discard)
	secs := time.Since(start).Seconds()
	heap, rss := m.Stop()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(childResult{Rows: n, Seconds: secs, HeapMB: heap, RSSMB: rss})
	fmt.Printf("\n%s%s\n", childPrefix, b)
}

// benchDBs caches the generated databases by size, for -count > 1.
var benchDBs = map[int]string{}

// benchDB returns the path of a database with n generated participations,
// made once per size in a folder removed at the end (TestMain).
func benchDB(b *testing.B, n int) string {
	if path, ok := benchDBs[n]; ok {
		return path
	}
	path := filepath.Join(benchDir, fmt.Sprintf("edition-%d.db", n))
	db, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	generateEdition(b, db, n)
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	benchDBs[n] = path
	return path
}

var benchDir string

func TestMain(m *testing.M) {
	var err error
	if benchDir, err = os.MkdirTemp("", "prodays-export-bench-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(benchDir)
	os.Exit(code)
}

// benchExport measures an export of the full edition (1x) and of twice as
// many participations (2x), each run in a child process (TestExportChild):
// the export's time, its peak Go heap in use and the process's peak RSS.
// Memory must not grow with the data: 2x must peak as 1x does.
func benchExport(b *testing.B, format string) {
	for _, scale := range []int{1, 2} {
		b.Run(fmt.Sprintf("%dx", scale), func(b *testing.B) {
			n := scale * benchParticipations
			path := benchDB(b, n)
			var heap, rss, secs float64
			for b.Loop() {
				cmd := exec.Command(os.Args[0], "-test.run=^TestExportChild$", "-test.count=1", "-test.v")
				cmd.Env = append(os.Environ(), childEnv+"="+format+":"+path)
				out, err := cmd.CombinedOutput()
				if err != nil {
					b.Fatalf("%v\n%s", err, out)
				}
				_, js, ok := strings.Cut(string(out), childPrefix)
				if !ok {
					b.Fatalf("no result:\n%s", out)
				}
				js, _, _ = strings.Cut(js, "\n")
				var r childResult
				if err := json.Unmarshal([]byte(js), &r); err != nil {
					b.Fatal(err)
				}
				if r.Rows != n {
					b.Fatalf("rows: %d, want %d", r.Rows, n)
				}
				heap, rss, secs = max(heap, r.HeapMB), max(rss, r.RSSMB), max(secs, r.Seconds)
			}
			b.ReportMetric(secs, "export-s")
			b.ReportMetric(heap, "peak-heap-MB")
			b.ReportMetric(rss, "peak-RSS-MB")
		})
	}
}

// BenchmarkParticipationsCSV exports the full edition's 45,128
// participations as CSV, and twice as many.
func BenchmarkParticipationsCSV(b *testing.B) { benchExport(b, "csv") }

// BenchmarkParticipationsXLSX exports the full edition's 45,128
// participations as XLSX, and twice as many.
func BenchmarkParticipationsXLSX(b *testing.B) { benchExport(b, "xlsx") }
