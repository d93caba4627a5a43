package simulate

import (
	"fmt"
	"io"
	"sort"
	"time"

	"prodays/sync/protocol"
)

// Stats are the live counters of a replay.
type Stats struct {
	// Acked is how many mutations have a result (first answer received).
	Acked int64
	// Pushes counts push requests sent (retries included).
	Pushes int64
	// Retries counts requests sent again after a failure (network error,
	// dropped response, 429, 5xx), RetriedMutations the mutations they
	// carried.
	Retries, RetriedMutations int64
	// LostMutations counts the mutations sent again because their push got
	// no answer at all (connection refused or reset, timeout: a server
	// down); they are part of RetriedMutations.
	LostMutations int64
	// DevicesDone counts phones that pushed all their batches.
	DevicesDone int64
	// Resent counts the mutations put back into outboxes from the phones'
	// sent logs (sync protocol 1.1: the server no longer held them).
	Resent int64
	// Logins counts the phones' successful logins (first ones and again
	// after a refused session).
	Logins int64
}

// Summary is the outcome of a replay.
type Summary struct {
	Devices, Batches, Mutations int
	// Outcomes counts each mutation once, by the status it had the first
	// time the server saw it ("applied", "flagged:out_of_window",
	// "rejected:unknown_trainee"); a duplicate answer counts under its
	// outcome.
	Outcomes map[string]int
	// Results counts every result received by status (applied, duplicate,
	// flagged, rejected), duplicates sent and retries included.
	Results map[string]int
	// Unanswered counts mutations of the batches pushed so far that never
	// got a result (gave up).
	Unanswered int
	// Resent counts the mutations put back into the outboxes from the
	// phones' sent logs because the server no longer held them (a
	// restore), Resyncs the pulls answered 409 resync, Pulls the pull
	// pages received (sync protocol 1.1).
	Resent, Resyncs, Pulls             int64
	Pushes, Retries, RetriedMutations  int64
	DroppedResponses, DuplicateBatches int64
	Splits, Refreshes, Logins          int64
	// Throttled counts 429 and 503 answers.
	Throttled int64
	// LoginElapsed is the login phase of an AllAtOnce replay; Elapsed the
	// push phase (AllAtOnce) or the whole replay.
	LoginElapsed, Elapsed time.Duration
	// Throughput is Mutations / Elapsed, per second.
	Throughput float64
	// Latency percentiles of the answered push requests (one HTTP round
	// trip each).
	P50, P95, P99, Max time.Duration
	// Batch percentiles: from a batch's first send to its answer, waits
	// and retries included (what the phone sees when the server sheds load).
	BatchP50, BatchP95, BatchP99, BatchMax time.Duration
	// Errors holds the first errors met (at most 20).
	Errors []string
}

func (r *Runner) summary(elapsed time.Duration) *Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := &Summary{Devices: len(r.plan.Devices), Mutations: r.plan.Mutations, Outcomes: map[string]int{},
		Results: map[string]int{}, Pushes: r.pushes.Load(), Retries: r.retries.Load(), RetriedMutations: r.retriedMuts.Load(),
		DroppedResponses: r.dropped.Load(), DuplicateBatches: r.dupBatches.Load(), Splits: r.splits.Load(),
		Refreshes: r.refreshes.Load(), Logins: r.logins.Load(), Throttled: r.thr.Load(), Elapsed: elapsed}
	for _, d := range r.plan.Devices {
		s.Batches += len(d.Batches)
	}
	for _, o := range r.outcome {
		s.Outcomes[o]++
	}
	for k, v := range r.results {
		s.Results[k] = v
	}
	due := 0
	for _, p := range r.phones {
		for _, b := range p.Batches[:p.dueTo] {
			due += len(b.Mutations)
		}
	}
	s.Unanswered = max(0, due-len(r.outcome))
	s.Resent, s.Resyncs, s.Pulls = r.resent.Load(), r.resyncs.Load(), r.pulls.Load()
	if elapsed > 0 {
		s.Throughput = float64(r.plan.Mutations) / elapsed.Seconds()
	}
	lat := append([]time.Duration(nil), r.latencies...)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	s.P50, s.P95, s.P99 = Percentile(lat, 50), Percentile(lat, 95), Percentile(lat, 99)
	if len(lat) > 0 {
		s.Max = lat[len(lat)-1]
	}
	bl := append([]time.Duration(nil), r.batchLat...)
	sort.Slice(bl, func(i, j int) bool { return bl[i] < bl[j] })
	s.BatchP50, s.BatchP95, s.BatchP99 = Percentile(bl, 50), Percentile(bl, 95), Percentile(bl, 99)
	if len(bl) > 0 {
		s.BatchMax = bl[len(bl)-1]
	}
	s.Errors = append([]string(nil), r.errs...)
	if r.nerrs > len(r.errs) {
		s.Errors = append(s.Errors, fmt.Sprintf("… and %d more", r.nerrs-len(r.errs)))
	}
	return s
}

// Percentile returns the p-th percentile (nearest rank) of sorted.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// Print writes the summary for a person.
func (s *Summary) Print(w io.Writer) {
	fmt.Fprintf(w, "devices %d, batches %d, mutations %d\n", s.Devices, s.Batches, s.Mutations)
	fmt.Fprintln(w, "first outcome of each mutation:")
	keys := make([]string, 0, len(s.Outcomes))
	for k := range s.Outcomes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %-40s %7d\n", k, s.Outcomes[k])
	}
	if s.Unanswered > 0 {
		fmt.Fprintf(w, "  %-40s %7d\n", "no answer", s.Unanswered)
	}
	fmt.Fprintf(w, "results received: applied %d, duplicate %d, flagged %d, rejected %d\n",
		s.Results[protocol.StatusApplied], s.Results[protocol.StatusDuplicate], s.Results[protocol.StatusFlagged], s.Results[protocol.StatusRejected])
	fmt.Fprintf(w, "pushes %d, retries %d (%d mutations), dropped responses %d, duplicate batches %d, splits %d, throttled %d, logins %d, refreshes %d\n",
		s.Pushes, s.Retries, s.RetriedMutations, s.DroppedResponses, s.DuplicateBatches, s.Splits, s.Throttled, s.Logins, s.Refreshes)
	if s.Resent > 0 || s.Resyncs > 0 || s.Pulls > 0 {
		fmt.Fprintf(w, "re-sent from sent logs after a server restore %d, pull pages %d, resyncs %d\n", s.Resent, s.Pulls, s.Resyncs)
	}
	if s.LoginElapsed > 0 {
		fmt.Fprintf(w, "login phase %s\n", s.LoginElapsed.Round(time.Millisecond))
	}
	fmt.Fprintf(w, "elapsed %s, throughput %.0f mutations/s\n", s.Elapsed.Round(time.Millisecond), s.Throughput)
	fmt.Fprintf(w, "push latency p50 %s, p95 %s, p99 %s, max %s\n", ms(s.P50), ms(s.P95), ms(s.P99), ms(s.Max))
	fmt.Fprintf(w, "batch latency (first send to answer, retries included) p50 %s, p95 %s, p99 %s, max %s\n",
		ms(s.BatchP50), ms(s.BatchP95), ms(s.BatchP99), ms(s.BatchMax))
	for _, e := range s.Errors {
		fmt.Fprintln(w, "error:", e)
	}
}

func ms(d time.Duration) string { return d.Round(100 * time.Microsecond).String() }
