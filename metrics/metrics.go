// Package metrics holds the Prometheus metrics of prodays: HTTP requests,
// load shedding, the sync engine's counters, and gauges read from the
// database at scrape time. Each Metrics has its own registry (never the
// global default one), so that tests and several servers in one process
// do not collide. Exposition is the Prometheus text format through
// promhttp.
package metrics

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"prodays"
)

// Source gives the figures computed at scrape time (*store.DB implements
// it).
type Source interface {
	OpsStats(ctx context.Context) (prodays.OpsStats, error)
}

// Metrics is the set of prodays metrics and their registry. The methods
// are safe for concurrent use, and do nothing on a nil *Metrics (so that a
// component can run without metrics in tests).
type Metrics struct {
	// Registry holds every metric below plus the Go and process collectors.
	Registry *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	shed         *prometheus.CounterVec
	panics       prometheus.Counter
	mutations    *prometheus.CounterVec
	pushBatches  *prometheus.CounterVec
	pullPages    prometheus.Counter
	pullBytes    prometheus.Counter

	mu     sync.Mutex
	routes map[string]bool // distinct route labels seen (bounded)
}

// maxRoutes bounds the distinct values of the route label: routes are the
// registered patterns, so this is only a guard against a mistake.
const maxRoutes = 200

// New returns metrics registered in a new registry, with a collector that
// reads src at each scrape (src may be nil: no database gauges).
func New(src Source) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		httpRequests: counterVec("prodays_http_requests_total",
			"HTTP requests answered, by method, route pattern and status code.",
			"method", "route", "status"),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "prodays_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by method and route pattern.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"method", "route"}),
		shed: counterVec("prodays_http_shed_total",
			"Write requests refused with 503 because the database writer was saturated, by route.",
			"route"),
		panics: counter("prodays_http_panics_total",
			"Handler panics recovered into a 500 answer."),
		mutations: counterVec("prodays_sync_mutations_total",
			"Mutations received by push, by type and result status (applied, duplicate, flagged, rejected).",
			"type", "status"),
		pushBatches: counterVec("prodays_sync_push_batches_total",
			"Push batches handled, by outcome (committed, refused, failed).",
			"outcome"),
		pullPages: counter("prodays_sync_pull_pages_total",
			"Pull pages served."),
		pullBytes: counter("prodays_sync_pull_bytes_total",
			"Bytes of pull pages served (before compression)."),
		routes: make(map[string]bool),
	}
	// The collectors package's constructors are these same two, but that
	// package also holds a database/sql stats collector, which would make
	// every importer of metrics (the HTTP API) depend on database/sql.
	m.Registry.MustRegister(
		prometheus.NewGoCollector(),                                       //nolint:staticcheck // see above
		prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}), //nolint:staticcheck // see above
		m.httpRequests, m.httpDuration, m.shed, m.panics,
		m.mutations, m.pushBatches, m.pullPages, m.pullBytes,
	)
	if src != nil {
		m.Registry.MustRegister(newDBCollector(src))
	}
	// Known series start at 0, so that rate() and alerts see them before
	// the first event.
	for typ := range mutationTypes {
		for st := range mutationStatuses {
			m.mutations.WithLabelValues(typ, st)
		}
	}
	for _, o := range []string{"committed", "refused", "failed"} {
		m.pushBatches.WithLabelValues(o)
	}
	return m
}

// Handler serves the registry in the Prometheus exposition format. A
// failing gauge is left out of the answer (and its error reported in it)
// rather than failing the whole scrape.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{
		ErrorHandling:     promhttp.ContinueOnError,
		Registry:          m.Registry, // promhttp_metric_handler_* counters
		Timeout:           10 * time.Second,
		EnableOpenMetrics: false,
	})
}

// route bounds the route label's values.
func (m *Metrics) route(r string) string {
	if r == "" {
		return "unmatched"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.routes[r] {
		return r
	}
	if len(m.routes) >= maxRoutes {
		return "other"
	}
	m.routes[r] = true
	return r
}

// Request records one answered HTTP request: route is the pattern
// ("/api/v1/auth/me"; "" for a request that matched none), d the time to
// answer.
func (m *Metrics) Request(method, route string, status int, d time.Duration) {
	if m == nil {
		return
	}
	route = m.route(route)
	m.httpRequests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.httpDuration.WithLabelValues(method, route).Observe(d.Seconds())
}

// WatchWriteQueue exposes the write queue of load shedding, read at
// scrape time: prodays_http_writes_running (requests holding a writer
// slot), prodays_http_writes_waiting (requests waiting for one) and
// prodays_http_write_bodies_bytes (bytes of write requests' bodies read
// before their slot, against --write-body-budget-mb). Call it once per
// Metrics.
func (m *Metrics) WatchWriteQueue(running, waiting, bodies func() float64) {
	if m == nil {
		return
	}
	m.Registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "prodays_http_writes_running", Help: "Write requests holding a writer slot."}, running),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "prodays_http_writes_waiting", Help: "Write requests waiting for a writer slot."}, waiting),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "prodays_http_write_bodies_bytes", Help: "Bytes of write requests' bodies read before their writer slot (the body budget in use)."}, bodies),
	)
}

// Shed records a write request refused by load shedding.
func (m *Metrics) Shed(route string) {
	if m == nil {
		return
	}
	m.shed.WithLabelValues(m.route(route)).Inc()
}

// Panic records a recovered handler panic.
func (m *Metrics) Panic() {
	if m == nil {
		return
	}
	m.panics.Inc()
}

// Mutation types and statuses of the sync protocol; any other value is
// counted as "other", so that a client cannot grow the label set.
var (
	mutationTypes    = map[string]bool{"attendance.check_in": true, "attendance.undo": true, "trainee.register": true, "trainee.update": true}
	mutationStatuses = map[string]bool{"applied": true, "duplicate": true, "flagged": true, "rejected": true}
)

// MutationApplied records one mutation handled by push, by its type
// ("attendance.check_in", …) and its result status ("applied", "duplicate",
// "flagged" or "rejected"). Unknown types and statuses count as "other".
// The sync engine calls it once per result.
func (m *Metrics) MutationApplied(typ, status string) {
	if m == nil {
		return
	}
	if !mutationTypes[typ] {
		typ = "other"
	}
	if !mutationStatuses[status] {
		status = "other"
	}
	m.mutations.WithLabelValues(typ, status).Inc()
}

// PushBatch records one push batch by outcome: "committed" (answered
// 200), "refused" (4xx: too large, invalid, unauthorised) or "failed"
// (5xx). Any other outcome counts as "other".
func (m *Metrics) PushBatch(outcome string) {
	if m == nil {
		return
	}
	switch outcome {
	case "committed", "refused", "failed":
	default:
		outcome = "other"
	}
	m.pushBatches.WithLabelValues(outcome).Inc()
}

// PullPage records one pull page served and its size in bytes (before
// compression).
func (m *Metrics) PullPage(bytes int) {
	if m == nil {
		return
	}
	m.pullPages.Inc()
	m.pullBytes.Add(float64(bytes))
}

// dbCollector computes the database gauges at scrape time.
type dbCollector struct {
	src                                           Source
	now                                           func() time.Time
	fileBytes, walBytes, backupAge, backupTime    *prometheus.Desc
	devicesLastHour, openFlags, quarantined, upOK *prometheus.Desc
}

func newDBCollector(src Source) *dbCollector {
	d := func(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, nil, nil) }
	return &dbCollector{
		src:             src,
		now:             time.Now,
		fileBytes:       d("prodays_db_file_bytes", "Size of the SQLite database file, in bytes."),
		walBytes:        d("prodays_db_wal_bytes", "Size of the SQLite write-ahead log, in bytes."),
		backupAge:       d("prodays_backup_age_seconds", "Seconds since the last successful backup started (+Inf when there was none)."),
		backupTime:      d("prodays_backup_last_success_timestamp_seconds", "Unix time of the last successful backup (0 when there was none)."),
		devicesLastHour: d("prodays_devices_seen_last_hour", "Devices seen by the server within the last hour."),
		openFlags:       d("prodays_flags_open", "Flags waiting for a supervisor's decision."),
		quarantined:     d("prodays_quarantine_mutations", "Rejected mutations kept in the quarantine."),
		upOK:            d("prodays_db_stats_up", "1 when the database figures of this scrape could be read, 0 otherwise."),
	}
}

// Describe implements prometheus.Collector.
func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.fileBytes, c.walBytes, c.backupAge, c.backupTime, c.devicesLastHour, c.openFlags, c.quarantined, c.upOK} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := c.src.OpsStats(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.upOK, prometheus.GaugeValue, 0)
		ch <- prometheus.NewInvalidMetric(c.fileBytes, err)
		return
	}
	g := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	g(c.upOK, 1)
	g(c.fileBytes, float64(st.FileBytes))
	g(c.walBytes, float64(st.WALBytes))
	if st.LastBackup.IsZero() {
		g(c.backupAge, math.Inf(1))
		g(c.backupTime, 0)
	} else {
		g(c.backupAge, c.now().Sub(st.LastBackup).Seconds())
		g(c.backupTime, float64(st.LastBackup.UnixMilli())/1000)
	}
	g(c.devicesLastHour, float64(st.DevicesLastHour))
	g(c.openFlags, float64(st.OpenFlags))
	g(c.quarantined, float64(st.Quarantined))
}

// counterVec is a counter named name (Prometheus naming: prodays_*_total)
// with help text help, partitioned by labels.
func counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
}

// counter is a counter named name with help text help, without labels.
func counter(name, help string) prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
}
