package simulate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"prodays/sync/protocol"
)

// Options tune a replay. The zero value of a field takes its default.
type Options struct {
	// Password of every account of the plan (the operator sets it first).
	Password string
	// Concurrency is how many phones push at the same time (default: every
	// device of the plan).
	Concurrency int
	// Duplicate is the share of batches sent twice (0 to 1): after its
	// answer, the same batch again.
	Duplicate float64
	// DropResponses is the share of push answers thrown away after the
	// server answered (0 to 1), which forces a retry of the same batch.
	DropResponses float64
	// AllAtOnce logs every phone in first, then has them all push at the
	// same moment (day's end). Without it each phone starts pushing as
	// soon as it has logged in.
	AllAtOnce bool
	// LoginConcurrency bounds the logins in flight (default 8): each costs
	// the server an argon2id hash of 19 MiB, so a storm of hundreds at
	// once would hold gigabytes.
	LoginConcurrency int
	// BeforePush, with AllAtOnce, is called once every phone has logged in,
	// just before they all push (a benchmark starts its measures there).
	BeforePush func()
	// Seed makes the random choices (duplicates, drops, jitter) repeatable.
	Seed uint64
	// Gzip compresses push bodies.
	Gzip bool
	// Progress, when set, receives a progress line every ProgressEvery
	// (default 2 s).
	Progress      io.Writer
	ProgressEvery time.Duration
	// MaxAttempts bounds the attempts of one request (default 200).
	MaxAttempts int
	// BaseBackoff and MaxBackoff bound the exponential backoff between
	// attempts (defaults 50 ms and 2 s); a Retry-After is honoured up to
	// MaxRetryAfter (default 30 s).
	BaseBackoff, MaxBackoff, MaxRetryAfter time.Duration
	// Timeout bounds the whole replay (default 30 min).
	Timeout time.Duration
	// Now is the real clock (default time.Now); client_time is Now plus the
	// device's clock error.
	Now func() time.Time
}

func (o Options) withDefaults(devices int) Options {
	if o.Concurrency <= 0 || o.Concurrency > devices {
		o.Concurrency = max(devices, 1)
	}
	if o.LoginConcurrency <= 0 {
		o.LoginConcurrency = 8
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = 2 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 200
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = 50 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 2 * time.Second
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = 30 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

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
	// Unanswered counts mutations that never got a result (gave up).
	Unanswered                         int
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

// Runner replays a Plan against a server.
type Runner struct {
	plan   *Plan
	opt    Options
	client *Client

	acked, pushes, retries, retriedMuts, lostMuts, devicesDone atomic.Int64
	dropped, dupBatches, splits, refreshes, logins, thr        atomic.Int64

	loginSem chan struct{}
	secrets  []string // of the phones, by index in plan.Devices

	mu        sync.Mutex
	latencies []time.Duration
	batchLat  []time.Duration
	results   map[string]int
	outcome   map[string]string
	errs      []string
	nerrs     int
}

// New returns a runner of plan against the server at baseURL.
func New(plan *Plan, baseURL string, opt Options) *Runner {
	opt = opt.withDefaults(len(plan.Devices))
	return &Runner{plan: plan, opt: opt, client: NewClient(baseURL, opt.Concurrency), loginSem: make(chan struct{}, opt.LoginConcurrency),
		secrets: newSecrets(len(plan.Devices)), results: map[string]int{}, outcome: make(map[string]string, plan.Mutations)}
}

// Stats returns the live counters (safe to call while Run runs).
func (r *Runner) Stats() Stats {
	return Stats{Acked: r.acked.Load(), Pushes: r.pushes.Load(), Retries: r.retries.Load(),
		RetriedMutations: r.retriedMuts.Load(), LostMutations: r.lostMuts.Load(), DevicesDone: r.devicesDone.Load()}
}

// phone is one device being replayed.
type phone struct {
	*Device
	idx     int
	rng     *rand.Rand
	secret  string // its device_secret (newSecrets)
	sess    *Session
	pending int // mutations still in the outbox
}

// Run replays the plan: every phone logs in, then pushes its batches one
// at a time in order; phones run concurrently. It returns the summary
// (with an error when some mutations got no result or the replay was
// cut short).
func (r *Runner) Run(ctx context.Context) (*Summary, error) {
	ctx, cancel := context.WithTimeout(ctx, r.opt.Timeout)
	defer cancel()
	phones := make([]*phone, len(r.plan.Devices))
	for i, d := range r.plan.Devices {
		n := 0
		for _, b := range d.Batches {
			n += len(b.Mutations)
		}
		phones[i] = &phone{Device: d, idx: i, pending: n, secret: r.secrets[i],
			rng: rand.New(rand.NewPCG(r.opt.Seed, uint64(i)+1))}
	}
	stopProgress := r.progress(ctx)
	defer stopProgress()

	start := r.opt.Now()
	var loginElapsed time.Duration
	if r.opt.AllAtOnce {
		r.each(ctx, phones, func(p *phone) { r.login(ctx, p) })
		loginElapsed = r.opt.Now().Sub(start)
		if r.opt.BeforePush != nil {
			r.opt.BeforePush()
		}
		start = r.opt.Now()
		r.each(ctx, phones, func(p *phone) { r.pushAll(ctx, p) })
	} else {
		r.each(ctx, phones, func(p *phone) {
			if r.login(ctx, p) {
				r.pushAll(ctx, p)
			}
		})
	}
	sum := r.summary(r.opt.Now().Sub(start))
	sum.LoginElapsed = loginElapsed
	var err error
	switch {
	case ctx.Err() != nil:
		err = fmt.Errorf("replay cut short: %w", ctx.Err())
	case sum.Unanswered > 0:
		err = fmt.Errorf("%d of %d mutations got no result", sum.Unanswered, sum.Mutations)
	}
	return sum, err
}

// each runs fn for every phone on Concurrency workers.
func (r *Runner) each(ctx context.Context, phones []*phone, fn func(*phone)) {
	work := make(chan *phone)
	var wg sync.WaitGroup
	for range r.opt.Concurrency {
		wg.Go(func() {
			for p := range work {
				fn(p)
			}
		})
	}
	for _, p := range phones {
		if ctx.Err() != nil {
			break
		}
		work <- p
	}
	close(work)
	wg.Wait()
}

func (r *Runner) progress(ctx context.Context) func() {
	if r.opt.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	start := time.Now()
	go func() {
		t := time.NewTicker(r.opt.ProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				s := r.Stats()
				fmt.Fprintf(r.opt.Progress, "%6.1fs  devices %d/%d  mutations %d/%d  pushes %d  retries %d\n",
					time.Since(start).Seconds(), s.DevicesDone, len(r.plan.Devices), s.Acked, r.plan.Mutations, s.Pushes, s.Retries)
			}
		}
	}()
	return func() { close(done) }
}

func (r *Runner) fail(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.nerrs++
	if len(r.errs) < 20 {
		r.errs = append(r.errs, fmt.Sprintf(format, args...))
	}
}

// backoff sleeps before attempt (from 1): Retry-After when given (capped),
// else exponential with full jitter. It returns false when ctx ends.
func (r *Runner) backoff(ctx context.Context, p *phone, attempt int, retryAfter time.Duration) bool {
	d := r.opt.BaseBackoff << min(attempt-1, 16)
	d = min(d, r.opt.MaxBackoff)
	d = d/2 + time.Duration(p.rng.Int64N(int64(d/2)+1))
	if retryAfter > 0 {
		// Jitter after Retry-After so that throttled phones do not come
		// back in one wave.
		d = min(retryAfter, r.opt.MaxRetryAfter) + time.Duration(p.rng.Int64N(int64(r.opt.BaseBackoff)+1))
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// transient reports whether an answer's status means "send again later".
func transient(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable || status >= 500
}

// login logs p in, retrying transient failures. It returns false (and
// counts the phone's mutations as failed) when it cannot.
func (r *Runner) login(ctx context.Context, p *phone) bool {
	for attempt := 1; attempt <= r.opt.MaxAttempts && ctx.Err() == nil; attempt++ {
		select {
		case r.loginSem <- struct{}{}:
		case <-ctx.Done():
			return false
		}
		s, err := r.client.LoginDevice(ctx, p.Username, r.opt.Password, p.ID, p.secret)
		<-r.loginSem
		if err == nil {
			r.logins.Add(1)
			p.sess = s
			if s.DeviceSecret != p.secret { // the server made one: keep it
				r.mu.Lock()
				p.secret, r.secrets[p.idx] = s.DeviceSecret, s.DeviceSecret
				r.mu.Unlock()
			}
			return true
		}
		var se *StatusError
		if errors.As(err, &se) && !transient(se.Status) {
			r.fail("login %s: %v", p.Username, err)
			return false
		}
		var after time.Duration
		if errors.As(err, &se) && (se.Status == 429 || se.Status == 503) {
			r.thr.Add(1)
			after = se.RetryAfter
		}
		if !r.backoff(ctx, p, attempt, after) {
			break
		}
	}
	r.fail("login %s: gave up", p.Username)
	return false
}

// reauth gets p a new access token: refresh, or log in again when the
// refresh token is no longer good (a rotated token whose answer was lost
// counts as reuse and revokes the family).
func (r *Runner) reauth(ctx context.Context, p *phone) bool {
	err := r.client.Refresh(ctx, p.sess)
	if err == nil {
		r.refreshes.Add(1)
		return true
	}
	return r.login(ctx, p)
}

func (r *Runner) pushAll(ctx context.Context, p *phone) {
	defer r.devicesDone.Add(1)
	if p.sess == nil {
		return // its login failed: its mutations stay unanswered
	}
	for _, b := range p.Batches {
		if ctx.Err() != nil {
			return
		}
		r.push(ctx, p, b.Mutations)
		if r.opt.Duplicate > 0 && p.rng.Float64() < r.opt.Duplicate {
			r.dupBatches.Add(1)
			r.push(ctx, p, b.Mutations)
		}
		p.pending -= len(b.Mutations)
	}
}

// push sends ms until the server answers with results, following the
// protocol's retry rules.
func (r *Runner) push(ctx context.Context, p *phone, ms []protocol.Mutation) {
	// retry is set after a failure (network, lost answer, 429, 5xx), not
	// after a refresh of the session.
	retry, lost := false, false
	first := time.Now()
	for attempt := 1; attempt <= r.opt.MaxAttempts && ctx.Err() == nil; attempt++ {
		if retry {
			r.retries.Add(1)
			r.retriedMuts.Add(int64(len(ms)))
			if lost {
				r.lostMuts.Add(int64(len(ms)))
			}
		}
		retry, lost = true, false
		body, err := json.Marshal(protocol.PushRequest{DeviceID: p.ID, ClientTime: r.opt.Now().Add(p.ClockError),
			AppVersion: "simulate", OutboxSize: p.pending, Mutations: ms})
		if err != nil {
			r.fail("device %s: encode: %v", p.ID, err)
			return
		}
		r.pushes.Add(1)
		t0 := time.Now()
		resp, err := r.client.do(ctx, "POST", "/api/v1/sync/push", p.sess.AccessToken, body, r.opt.Gzip)
		lat := time.Since(t0)
		if err != nil {
			lost = true
			if !r.backoff(ctx, p, attempt, 0) {
				break
			}
			continue
		}
		switch {
		case resp.status == http.StatusOK:
			if r.opt.DropResponses > 0 && p.rng.Float64() < r.opt.DropResponses {
				// The server committed; the phone never hears it.
				r.dropped.Add(1)
				if !r.backoff(ctx, p, 1, 0) {
					return
				}
				continue
			}
			var pr protocol.PushResponse
			if err := json.Unmarshal(resp.body, &pr); err != nil {
				r.fail("device %s: decode push answer: %v", p.ID, err)
				return
			}
			r.record(ms, &pr, lat, time.Since(first))
			return
		case resp.status == http.StatusUnauthorized:
			if !r.reauth(ctx, p) {
				r.fail("device %s: cannot log in again", p.ID)
				return
			}
			retry = false
			continue
		case resp.status == http.StatusRequestEntityTooLarge && len(ms) > 1:
			r.splits.Add(1)
			h := len(ms) / 2
			r.push(ctx, p, ms[:h])
			r.push(ctx, p, ms[h:])
			return
		case transient(resp.status):
			if resp.status == 429 || resp.status == 503 {
				r.thr.Add(1)
			}
			if !r.backoff(ctx, p, attempt, resp.retryAfter) {
				return
			}
			continue
		default:
			r.fail("device %s: %v", p.ID, statusError("POST", "/api/v1/sync/push", resp))
			return
		}
	}
	r.fail("device %s: gave up a batch of %d mutations", p.ID, len(ms))
}

// record counts a push answer.
func (r *Runner) record(ms []protocol.Mutation, pr *protocol.PushResponse, lat, batch time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.latencies = append(r.latencies, lat)
	r.batchLat = append(r.batchLat, batch)
	for _, res := range pr.Results {
		r.results[res.Status]++
		if _, ok := r.outcome[res.ID]; ok {
			continue
		}
		st := res.Status
		if st == protocol.StatusDuplicate {
			st = res.Outcome
		}
		if res.Code != "" {
			st += ":" + res.Code
		}
		r.outcome[res.ID] = st
		r.acked.Add(1)
	}
	if len(pr.Results) != len(ms) {
		r.nerrs++
		r.errs = append(r.errs, fmt.Sprintf("push of %d mutations answered %d results", len(ms), len(pr.Results)))
	}
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
	s.Unanswered = r.plan.Mutations - len(r.outcome)
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
