package simulate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"

	"prodays"
	"prodays/sync/protocol"
)

// pullLimit is the page size the phones ask (a snapshot's, sync protocol,
// Pull).
const pullLimit = protocol.MaxPullLimit

// PullAll has every phone pull once, concurrently: from its cursor, or a
// full snapshot when it has none, every page until has_more is false. A
// pull answered 409 resync (the scope or the server's history changed)
// makes the phone pull a fresh snapshot, keeping its outbox and sent log;
// each page's device object is compared with the phone's sent log as a
// push answer's is (what the server lost goes back into the outbox, for
// the next RunUntil). A phone without a session logs in first. The error
// joins the phones' failures.
func (r *Runner) PullAll(ctx context.Context) error {
	var mu sync.Mutex
	var errs []error
	r.each(ctx, r.phones, func(p *phone) {
		if err := r.pull(ctx, p); err != nil {
			mu.Lock()
			errs = append(errs, fmt.Errorf("device %s: %w", p.ID, err))
			mu.Unlock()
		}
	})
	if err := ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Resyncs is how many pulls were answered 409 resync so far.
func (r *Runner) Resyncs() int64 { return r.resyncs.Load() }

// pull runs one pull of p (PullAll), with the push's retry rules for
// transient failures and a new session on 401.
func (r *Runner) pull(ctx context.Context, p *phone) error {
	if !r.ensureLogin(ctx, p) {
		return errors.New("cannot log in")
	}
	resynced := false
	for attempt := 1; attempt <= r.opt.MaxAttempts; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		path := fmt.Sprintf("/api/v1/sync/pull?limit=%d", pullLimit)
		if p.cursor != "" {
			path += "&cursor=" + url.QueryEscape(p.cursor)
		}
		resp, err := r.client.do(ctx, "GET", path, p.sess.AccessToken, nil, false)
		if err != nil {
			if !r.backoff(ctx, p, attempt, 0) {
				return ctx.Err()
			}
			continue
		}
		switch {
		case resp.status == http.StatusOK:
			var page protocol.PullResponse
			if err := json.Unmarshal(resp.body, &page); err != nil {
				return fmt.Errorf("decode pull answer: %w", err)
			}
			r.pulls.Add(1)
			r.answered(p, nil, page.Device)
			p.cursor = page.Cursor
			if !page.HasMore {
				return nil
			}
			attempt = 0 // the next page is a new request
		case resp.status == http.StatusConflict && statusError("GET", path, resp).Code == prodays.EResync && !resynced:
			// Start again from a snapshot; the outbox and the sent log stay.
			r.resyncs.Add(1)
			resynced = true
			p.cursor = ""
		case resp.status == http.StatusUnauthorized:
			if !r.reauth(ctx, p) {
				return errors.New("cannot log in again")
			}
		case transient(resp.status):
			if !r.backoff(ctx, p, attempt, resp.retryAfter) {
				return ctx.Err()
			}
		default:
			return statusError("GET", path, resp)
		}
	}
	return errors.New("gave up pulling")
}
