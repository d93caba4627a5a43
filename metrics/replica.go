package metrics

import (
	"prodays"

	"github.com/prometheus/client_golang/prometheus"
)

// WatchReplicas exposes the state of the database's replicas, read at
// scrape time from status, labelled by replica URL (without credentials):
// prodays_replica_up (1 while the last call to the replica succeeded),
// prodays_replica_lag_seconds (age of the oldest transaction not yet on
// the replica) and prodays_replica_last_success_timestamp_seconds (Unix
// time; 0 before the first success). Call it once per Metrics.
func (m *Metrics) WatchReplicas(status func() []prodays.ReplicaStatus) {
	if m == nil {
		return
	}
	m.Registry.MustRegister(&replicaCollector{status: status,
		up:   prometheus.NewDesc("prodays_replica_up", "1 while the replica takes uploads, 0 while it fails.", []string{"replica"}, nil),
		lag:  prometheus.NewDesc("prodays_replica_lag_seconds", "Seconds the oldest local transaction not yet on the replica has waited (0: up to date).", []string{"replica"}, nil),
		last: prometheus.NewDesc("prodays_replica_last_success_timestamp_seconds", "Unix time of the replica's last successful call (0: none yet).", []string{"replica"}, nil),
	})
}

type replicaCollector struct {
	status        func() []prodays.ReplicaStatus
	up, lag, last *prometheus.Desc
}

// Describe implements prometheus.Collector.
func (c *replicaCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.up
	ch <- c.lag
	ch <- c.last
}

// Collect implements prometheus.Collector.
func (c *replicaCollector) Collect(ch chan<- prometheus.Metric) {
	for _, st := range c.status() {
		up, last := 0.0, 0.0
		if st.OK {
			up = 1
		}
		if !st.LastSuccess.IsZero() {
			last = float64(st.LastSuccess.UnixMilli()) / 1000
		}
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, up, st.URL)
		ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, st.Lag.Seconds(), st.URL)
		ch <- prometheus.MustNewConstMetric(c.last, prometheus.GaugeValue, last, st.URL)
	}
}
