package metrics

import "github.com/prometheus/client_golang/prometheus"

// PushGroups are the counters of the sync engine's group commit
// (sync/engine.GroupStats), since the server started.
type PushGroups struct {
	Groups     int64 // write transactions of grouped pushes
	Batches    int64 // pushes applied in them
	Mutations  int64 // their mutations
	Failed     int64 // batches rolled back to their savepoint alone
	Savepoints int64 // groups applied again with a savepoint a batch
	Queued     int   // pushes waiting for the writer now
}

// WatchPushGroups exposes the group commit, read at scrape time:
// prodays_push_groups_total, prodays_push_group_batches_total and
// prodays_push_group_mutations_total (their ratios are the mean size of a
// group), prodays_push_group_failed_batches_total,
// prodays_push_group_savepoint_retries_total and the gauge
// prodays_push_queued. Call it once per Metrics.
func (m *Metrics) WatchPushGroups(read func() PushGroups) {
	if m == nil {
		return
	}
	counter := func(name, help string, v func(PushGroups) int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(v(read())) })
	}
	m.Registry.MustRegister(
		counter("prodays_push_groups_total", "Write transactions of grouped pushes (group commit).", func(g PushGroups) int64 { return g.Groups }),
		counter("prodays_push_group_batches_total", "Pushes applied in grouped write transactions.", func(g PushGroups) int64 { return g.Batches }),
		counter("prodays_push_group_mutations_total", "Mutations of the pushes applied in grouped write transactions.", func(g PushGroups) int64 { return g.Mutations }),
		counter("prodays_push_group_failed_batches_total", "Pushes of a group rolled back to their savepoint alone.", func(g PushGroups) int64 { return g.Failed }),
		counter("prodays_push_group_savepoint_retries_total", "Groups applied again with a savepoint a push after their apply as one batch failed.", func(g PushGroups) int64 { return g.Savepoints }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "prodays_push_queued", Help: "Pushes waiting for the writer."}, func() float64 { return float64(read().Queued) }),
	)
}
