package simulate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Runner replays a Plan against a server.
type Runner struct {
	plan   *Plan
	opt    Options
	client *Client

	acked, pushes, retries, retriedMuts, lostMuts, devicesDone atomic.Int64
	dropped, dupBatches, splits, refreshes, logins, thr        atomic.Int64
	// resent counts the mutations put back into outboxes from sent logs
	// (a restored server), resyncs the pulls answered 409 resync.
	resent, resyncs, pulls atomic.Int64

	// phones persist from one RunUntil or PullAll to the next, with their
	// sessions, sent logs and cursors.
	phones []*phone

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
	r := &Runner{plan: plan, opt: opt, client: NewClient(baseURL, opt.Concurrency), loginSem: make(chan struct{}, opt.LoginConcurrency),
		secrets: newSecrets(len(plan.Devices)), results: map[string]int{}, outcome: make(map[string]string, plan.Mutations)}
	r.newPhones()
	return r
}

// newPhones gives the runner its phones at the start of the plan, with the
// device secrets they were given so far.
func (r *Runner) newPhones() {
	r.phones = make([]*phone, len(r.plan.Devices))
	for i, d := range r.plan.Devices {
		n := 0
		for _, b := range d.Batches {
			n += len(b.Mutations)
		}
		r.mu.Lock()
		secret := r.secrets[i]
		r.mu.Unlock()
		r.phones[i] = &phone{Device: d, idx: i, pending: n, secret: secret, sent: NewSentLog(),
			rng: rand.New(rand.NewPCG(r.opt.Seed, uint64(i)+1))}
	}
}

// Stats returns the live counters (safe to call while Run runs).
func (r *Runner) Stats() Stats {
	return Stats{Acked: r.acked.Load(), Pushes: r.pushes.Load(), Retries: r.retries.Load(),
		RetriedMutations: r.retriedMuts.Load(), LostMutations: r.lostMuts.Load(), DevicesDone: r.devicesDone.Load(),
		Resent: r.resent.Load(), Logins: r.logins.Load()}
}

// Run replays the plan: every phone logs in, then pushes its batches one
// at a time in order; phones run concurrently. It returns the summary
// (with an error when some mutations got no result or the replay was
// cut short). Each Run starts the plan again with phones that log in
// again (with the device secrets they were given); the counters of the
// summary run on since New. For a replay in steps, use RunUntil.
func (r *Runner) Run(ctx context.Context) (*Summary, error) {
	r.newPhones()
	return r.RunUntil(ctx, 1)
}

// RunUntil replays the plan up to share (0 to 1) of each phone's batches,
// rounded down, going on from where the previous RunUntil stopped: each
// phone first pushes what its outbox holds again (mutations put back from
// its sent log after a server restore), then its next batches. A phone
// with nothing to push yet does not log in yet (its first login comes
// with its first batch). The summary covers everything since New; its
// error counts the mutations of the batches due so far that got no
// result.
func (r *Runner) RunUntil(ctx context.Context, share float64) (*Summary, error) {
	ctx, cancel := context.WithTimeout(ctx, r.opt.Timeout)
	defer cancel()
	phones := r.phones
	for _, p := range phones {
		p.dueTo = max(p.dueTo, p.upTo(share))
	}
	stopProgress := r.progress(ctx)
	defer stopProgress()

	start := r.opt.Now()
	var loginElapsed time.Duration
	if r.opt.AllAtOnce {
		r.each(ctx, phones, func(p *phone) { r.ensureLogin(ctx, p) })
		loginElapsed = r.opt.Now().Sub(start)
		if r.opt.BeforePush != nil {
			r.opt.BeforePush()
		}
		start = r.opt.Now()
		r.each(ctx, phones, func(p *phone) { r.pushAll(ctx, p, share) })
	} else {
		r.each(ctx, phones, func(p *phone) {
			// A phone with nothing to push yet does not log in yet.
			if p.hasWork(share) && r.ensureLogin(ctx, p) {
				r.pushAll(ctx, p, share)
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

// ensureLogin logs p in unless it has a session.
func (r *Runner) ensureLogin(ctx context.Context, p *phone) bool {
	return p.sess != nil || r.login(ctx, p)
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
