package simulate

import (
	"io"
	"time"
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
