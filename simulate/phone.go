package simulate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"time"

	"prodays/sync/protocol"
)

type phone struct {
	*Device
	idx     int
	rng     *rand.Rand
	secret  string // its device_secret (newSecrets)
	sess    *Session
	pending int // mutations still in the outbox
	// next is the index of its next batch in Device.Batches, dueTo how
	// many of its batches the runs so far asked it to push (their
	// mutations without an answer are unanswered).
	next, dueTo int
	// sent is its sent log; outbox the mutations put back from it, pushed
	// before the next batch; cursor its pull cursor ("" before its first
	// snapshot).
	sent   *SentLog
	outbox []protocol.Mutation
	cursor string
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

// upTo is the number of p's batches that share (0 to 1) of them makes,
// rounded down (a phone of one batch sends it at share 1 only).
func (p *phone) upTo(share float64) int {
	return min(len(p.Batches), int(math.Floor(share*float64(len(p.Batches))+1e-9)))
}

// hasWork reports whether p has something to push up to share.
func (p *phone) hasWork(share float64) bool {
	return len(p.outbox) > 0 || p.next < p.upTo(share)
}

// pushAll pushes p's outbox (re-sends), then its batches up to share of
// them.
func (r *Runner) pushAll(ctx context.Context, p *phone, share float64) {
	if p.sess == nil {
		return // its login failed: its mutations stay unanswered
	}
	upTo := p.upTo(share)
	for ctx.Err() == nil && (len(p.outbox) > 0 || p.next < upTo) {
		if len(p.outbox) > 0 {
			n := min(len(p.outbox), protocol.MaxMutations)
			ms := p.outbox[:n:n]
			p.outbox = p.outbox[n:]
			r.push(ctx, p, ms)
			p.pending -= len(ms)
			continue
		}
		b := p.Batches[p.next]
		p.next++
		r.push(ctx, p, b.Mutations)
		if r.opt.Duplicate > 0 && p.rng.Float64() < r.opt.Duplicate {
			r.dupBatches.Add(1)
			r.push(ctx, p, b.Mutations)
		}
		p.pending -= len(b.Mutations)
		if p.next == len(p.Batches) {
			r.devicesDone.Add(1)
		}
	}
}

// answered logs ms in p's sent log and compares the answer's device
// object with what p was told: what the server no longer holds goes back
// into p's outbox (sync protocol 1.1, "Sent log and restore without
// loss").
func (r *Runner) answered(p *phone, ms []protocol.Mutation, d protocol.DeviceState) {
	p.sent.Add(r.opt.Now(), ms)
	if lost := p.sent.Compare(d); len(lost) > 0 {
		p.outbox = append(p.outbox, lost...)
		p.pending += len(lost)
		r.resent.Add(int64(len(lost)))
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
		resp, err := r.client.do(ctx, "POST", pushPath, p.sess.AccessToken, body, r.opt.Gzip)
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
			r.answered(p, ms, pr.Device)
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
