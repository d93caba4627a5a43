package limiter_test

import (
	"fmt"
	"testing"
	"time"

	"prodays"
	"prodays/auth/limiter"
)

type clock struct{ t time.Time }

func (c *clock) Now() time.Time          { return c.t }
func (c *clock) Advance(d time.Duration) { c.t = c.t.Add(d) }

func retryAfter(t *testing.T, err error) int {
	t.Helper()
	pe, ok := err.(*prodays.Error)
	if !ok || pe.Code != prodays.ETooManyRequest {
		t.Fatalf("got %v, want too_many_requests", err)
	}
	return pe.Detail["retry_after"].(int)
}

func TestLimiterPerUsername(t *testing.T) {
	c := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	l := limiter.NewLoginLimiter(limiter.LimiterConfig{}, c.Now)
	for i := range limiter.DefaultUserBurst {
		if err := l.Allow("amina", fmt.Sprintf("10.0.0.%d", i)); err != nil {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
		l.Failure("amina", fmt.Sprintf("10.0.0.%d", i))
	}
	err := l.Allow("amina", "10.9.9.9")
	if got := retryAfter(t, err); got != int(limiter.DefaultUserEvery/time.Second) {
		t.Fatalf("retry_after: got %d, want %d", got, int(limiter.DefaultUserEvery/time.Second))
	}
	// Other users are not affected.
	if err := l.Allow("bilal", "10.9.9.9"); err != nil {
		t.Fatalf("other user: %v", err)
	}
	// Gradual: one more attempt after DefaultUserEvery, not a full lock.
	c.Advance(limiter.DefaultUserEvery)
	if err := l.Allow("amina", "10.9.9.9"); err != nil {
		t.Fatalf("after one period: %v", err)
	}
	l.Failure("amina", "10.9.9.9")
	retryAfter(t, l.Allow("amina", "10.9.9.9"))
	// Success clears the username.
	c.Advance(limiter.DefaultUserEvery)
	l.Success("amina")
	for i := range limiter.DefaultUserBurst {
		if err := l.Allow("amina", "10.1.1.1"); err != nil {
			t.Fatalf("after success, attempt %d: %v", i+1, err)
		}
		l.Failure("amina", "10.1.1.1")
	}
}

func TestLimiterPerAddress(t *testing.T) {
	c := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	l := limiter.NewLoginLimiter(limiter.LimiterConfig{}, c.Now)
	failFromAddress(t, l, "user", "10.0.0.1")
	retryAfter(t, l.Allow("someone-else", "10.0.0.1"))
	if err := l.Allow("someone-else", "10.0.0.2"); err != nil {
		t.Fatalf("other address: %v", err)
	}
	// A minute refills the whole address bucket.
	c.Advance(time.Minute)
	failFromAddress(t, l, "later", "10.0.0.1")
	retryAfter(t, l.Allow("x", "10.0.0.1"))
}

// failFromAddress makes DefaultAddrBurst failed logins from addr, each as
// another user (prefix0, prefix1, …), every one of them allowed.
func failFromAddress(t *testing.T, l *limiter.LoginLimiter, prefix, addr string) {
	t.Helper()
	for i := range limiter.DefaultAddrBurst {
		user := fmt.Sprintf("%s%d", prefix, i)
		if err := l.Allow(user, addr); err != nil {
			t.Fatalf("%s: attempt %d: %v", user, i+1, err)
		}
		l.Failure(user, addr)
	}
}

func TestLimiterBounded(t *testing.T) {
	c := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	l := limiter.NewLoginLimiter(limiter.LimiterConfig{MaxEntries: 100}, c.Now)
	for i := range 1000 {
		c.Advance(time.Millisecond)
		l.Failure(fmt.Sprintf("u%d", i), fmt.Sprintf("a%d", i))
	}
	if u, a := l.Len(); u > 100 || a > 100 {
		t.Fatalf("entries: %d users, %d addresses, want at most 100 each", u, a)
	}
	// Idle entries go first.
	c.Advance(time.Hour)
	l.Failure("fresh", "fresh")
	if u, _ := l.Len(); u != 1 {
		t.Fatalf("after an idle hour: %d users, want 1", u)
	}
}
