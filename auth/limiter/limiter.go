// Package limiter throttles password guessing: token buckets of failed
// logins per username and per client address, in memory.
package limiter

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"prodays"
)

// Default login limits (docs/security.md explains the figures). Each is a
// token bucket of failed logins: Burst failures are allowed at once, then
// one more every Every. A bucket refills completely after Burst × Every of
// quiet, so there is no permanent lock-out.
const (
	// DefaultUserBurst failed logins per username, then one every
	// DefaultUserEvery: 5 per 15 minutes, slowing down gradually instead of
	// locking the account.
	DefaultUserBurst = 5
	DefaultUserEvery = 3 * time.Minute
	// DefaultAddrBurst failed logins per client address, then one every
	// DefaultAddrEvery: 20 per minute.
	DefaultAddrBurst = 20
	DefaultAddrEvery = 3 * time.Second
	// DefaultMaxEntries bounds each of the two maps (usernames, addresses).
	DefaultMaxEntries = 10000
)

// LoginLimiter throttles password guessing: it counts failed logins per
// username and per client address in memory, each in a token bucket
// (golang.org/x/time/rate), and refuses a login attempt while either
// bucket is empty. A successful login clears the username's bucket. The
// maps are bounded: entries idle long enough to be full again are dropped,
// and when a map is still full the least recently used entry goes.
//
// The zero value is not usable; call NewLoginLimiter. A LoginLimiter is
// safe for concurrent use. It lives in one process: a restart forgets it,
// which is acceptable for a single-server deployment.
type LoginLimiter struct {
	// Now is the clock (tests pin it).
	Now func() time.Time

	mu    sync.Mutex
	users *buckets
	addrs *buckets
}

// LimiterConfig sets the figures of a LoginLimiter; zero fields take the
// defaults above.
type LimiterConfig struct {
	UserBurst  int
	UserEvery  time.Duration
	AddrBurst  int
	AddrEvery  time.Duration
	MaxEntries int
}

// NewLoginLimiter returns a limiter with cfg's figures and clock now
// (time.Now when nil).
func NewLoginLimiter(cfg LimiterConfig, now func() time.Time) *LoginLimiter {
	if cfg.UserBurst == 0 {
		cfg.UserBurst = DefaultUserBurst
	}
	if cfg.UserEvery == 0 {
		cfg.UserEvery = DefaultUserEvery
	}
	if cfg.AddrBurst == 0 {
		cfg.AddrBurst = DefaultAddrBurst
	}
	if cfg.AddrEvery == 0 {
		cfg.AddrEvery = DefaultAddrEvery
	}
	if cfg.MaxEntries == 0 {
		cfg.MaxEntries = DefaultMaxEntries
	}
	if now == nil {
		now = time.Now
	}
	return &LoginLimiter{
		Now:   now,
		users: newBuckets(cfg.UserBurst, cfg.UserEvery, cfg.MaxEntries),
		addrs: newBuckets(cfg.AddrBurst, cfg.AddrEvery, cfg.MaxEntries),
	}
}

// Allow reports whether a login attempt for username from address may be
// checked now. When it may not, the error is a *prodays.Error with code
// ETooManyRequest whose Detail["retry_after"] is the wait in whole seconds
// (at least 1), for the Retry-After header (RFC 9110 §10.2.3). Allow does
// not count the attempt: only Failure does.
func (l *LoginLimiter) Allow(username, address string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.Now()
	wait := max(l.users.wait(username, now), l.addrs.wait(address, now))
	if wait <= 0 {
		return nil
	}
	secs := int(math.Ceil(wait.Seconds()))
	return &prodays.Error{Code: prodays.ETooManyRequest,
		Message: "Too many failed logins: wait before trying again.",
		Detail:  map[string]any{"retry_after": max(secs, 1)}}
}

// Failure counts a failed login for username from address.
func (l *LoginLimiter) Failure(username, address string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.Now()
	l.users.take(username, now)
	l.addrs.take(address, now)
}

// Success clears username's failures (not the address's: one good
// password does not license a sweep of other accounts).
func (l *LoginLimiter) Success(username string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.users.m, username)
}

// Len returns the number of usernames and addresses tracked (for tests
// and metrics).
func (l *LoginLimiter) Len() (users, addrs int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.users.m), len(l.addrs.m)
}

// buckets is a bounded map of token buckets of one kind.
type buckets struct {
	burst int
	every time.Duration
	max   int
	m     map[string]*bucket
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newBuckets(burst int, every time.Duration, maxEntries int) *buckets {
	return &buckets{burst: burst, every: every, max: maxEntries, m: make(map[string]*bucket)}
}

// wait returns how long until key may fail once more (0 when it may now).
func (b *buckets) wait(key string, now time.Time) time.Duration {
	e, ok := b.m[key]
	if !ok {
		return 0
	}
	tokens := e.lim.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) * float64(b.every))
}

// take spends one token of key's bucket, creating it (and making room) when
// needed.
func (b *buckets) take(key string, now time.Time) {
	e, ok := b.m[key]
	if !ok {
		if len(b.m) >= b.max {
			b.evict(now)
		}
		e = &bucket{lim: rate.NewLimiter(rate.Every(b.every), b.burst)}
		b.m[key] = e
	}
	e.seen = now
	e.lim.AllowN(now, 1)
}

// evict drops every entry idle for the time its bucket takes to refill
// (it would behave as new), and when none is, the least recently used one.
func (b *buckets) evict(now time.Time) {
	idle := time.Duration(b.burst) * b.every
	var oldest string
	var oldestSeen time.Time
	for k, e := range b.m {
		if now.Sub(e.seen) >= idle {
			delete(b.m, k)
			continue
		}
		if oldest == "" || e.seen.Before(oldestSeen) {
			oldest, oldestSeen = k, e.seen
		}
	}
	if len(b.m) >= b.max && oldest != "" {
		delete(b.m, oldest)
	}
}
