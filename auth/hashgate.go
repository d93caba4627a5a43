package auth

import (
	"context"
	"runtime"
	"sync"
	"time"

	"prodays"
)

// HashGate bounds the argon2id password checks running at once: each
// holds 19 MiB (argonMemory) for ~30 ms of one core, so that more at once
// than the machine has cores only adds memory (issue #17: 438 phones
// logging in at once). Beyond Concurrent, a check waits in a queue of at
// most Queue, for at most MaxWait; past either it is refused with
// prodays.EUnavailable (503) and a Detail "retry_after" in seconds
// (Retry-After, RFC 9110 §10.2.3). The zero value is usable: the
// defaults below.
type HashGate struct {
	// Concurrent is the most checks at once (default runtime.NumCPU()).
	Concurrent int
	// Queue is the most checks waiting (default 64 × Concurrent).
	Queue int
	// MaxWait is the longest a check waits for its turn (default 10 s).
	MaxWait time.Duration

	once    sync.Once
	slots   chan struct{}
	waiters chan struct{}
}

// defaultGate is the gate of a Service without one.
var defaultGate = &HashGate{}

func (g *HashGate) init() {
	g.once.Do(func() {
		if g.Concurrent <= 0 {
			g.Concurrent = runtime.NumCPU()
		}
		if g.Queue <= 0 {
			g.Queue = 64 * g.Concurrent
		}
		if g.MaxWait <= 0 {
			g.MaxWait = 10 * time.Second
		}
		g.slots = make(chan struct{}, g.Concurrent)
		g.waiters = make(chan struct{}, g.Queue)
	})
}

// Do runs fn when a slot is free. It returns nil once fn ran, a
// prodays.EUnavailable error when the queue is full or the wait passed
// MaxWait, or ctx's error (fn did not run in either case).
func (g *HashGate) Do(ctx context.Context, fn func()) error {
	g.init()
	select {
	case g.slots <- struct{}{}: // a free slot: no queue
	default:
		select {
		case g.waiters <- struct{}{}:
		default:
			return g.busy()
		}
		timer := time.NewTimer(g.MaxWait)
		select {
		case g.slots <- struct{}{}:
			timer.Stop()
			<-g.waiters
		case <-timer.C:
			<-g.waiters
			return g.busy()
		case <-ctx.Done():
			timer.Stop()
			<-g.waiters
			return ctx.Err()
		}
	}
	defer func() { <-g.slots }()
	fn()
	return nil
}

// Waiting is the number of checks waiting for a slot now.
func (g *HashGate) Waiting() int {
	g.init()
	return len(g.waiters)
}

// busy is the refusal: retry after about the time the queue takes to
// drain (a check ~50 ms on one core), at least a second.
func (g *HashGate) busy() error {
	secs := max(1, int((time.Duration(g.Queue/g.Concurrent)*50*time.Millisecond+time.Second-1)/time.Second))
	e := prodays.Errorf(prodays.EUnavailable, "Too many logins at once; retry in %d s.", secs)
	e.Detail = map[string]any{"retry_after": secs}
	return e
}
