package auth_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"prodays"
	"prodays/auth"
)

// TestHashGate fills a gate of 2 slots and a queue of 1: the third check
// waits and runs once a slot frees, the fourth is refused at once with
// unavailable and a retry_after, and a queued check past MaxWait too.
func TestHashGate(t *testing.T) {
	g := &auth.HashGate{Concurrent: 2, Queue: 1, MaxWait: time.Hour}
	ctx := context.Background()
	release := make(chan struct{})
	started := make(chan struct{}, 3)
	var wg sync.WaitGroup
	var mu sync.Mutex
	running, most := 0, 0
	check := func() {
		mu.Lock()
		running++
		most = max(most, running)
		mu.Unlock()
		started <- struct{}{}
		<-release
		mu.Lock()
		running--
		mu.Unlock()
	}
	for range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); g.Do(ctx, check) }()
	}
	<-started
	<-started
	queued := make(chan error, 1)
	go func() { queued <- g.Do(ctx, check) }()
	// The third waits in the queue: the fourth finds it full.
	for deadline := time.Now().Add(10 * time.Second); g.Waiting() != 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the third check never queued")
		}
	}
	err := g.Do(ctx, func() { t.Error("a check ran past the bound") })
	pe, ok := err.(*prodays.Error)
	if !ok || pe.Code != prodays.EUnavailable || pe.Detail["retry_after"].(int) < 1 {
		t.Fatalf("over the bound: %v, want unavailable with retry_after", err)
	}
	close(release)
	if err := <-queued; err != nil {
		t.Fatalf("queued check: %v", err)
	}
	wg.Wait()
	if most != 2 {
		t.Errorf("%d checks at once, want 2", most)
	}

	g2 := &auth.HashGate{Concurrent: 1, Queue: 4, MaxWait: 20 * time.Millisecond}
	hold := make(chan struct{})
	in := make(chan struct{})
	go g2.Do(ctx, func() { close(in); <-hold })
	<-in
	if err := g2.Do(ctx, func() { t.Error("ran past MaxWait") }); prodays.ErrorCode(err) != prodays.EUnavailable {
		t.Errorf("past MaxWait: %v, want unavailable", err)
	}
	close(hold)
}
