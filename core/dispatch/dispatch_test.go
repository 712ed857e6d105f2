package dispatch_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/dispatch"
)

func TestBoundedAndRecovers(t *testing.T) {
	p := dispatch.New(1, 2, time.Second, nil)
	release := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	started := make(chan struct{})
	if err := p.Submit(func(context.Context) { close(started); <-release; wg.Done() }); err != nil {
		t.Fatal(err)
	}
	<-started
	for i := 0; i < 2; i++ {
		if err := p.Submit(func(context.Context) {}); err != nil {
			t.Fatalf("queue slot %d: %v", i, err)
		}
	}
	if err := p.Submit(func(context.Context) {}); !errors.Is(err, dispatch.ErrFull) {
		t.Fatalf("full queue accepted work: %v", err)
	}
	close(release)
	wg.Wait()
	if err := p.Submit(func(context.Context) { panic("boom") }); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	for p.Submit(func(context.Context) { close(done) }) != nil {
		time.Sleep(time.Millisecond)
	}
	<-done
	p.Close()
	st := p.Stats()
	if st.Rejected != 1 || st.Panics != 1 || st.Done != 4 {
		t.Fatalf("stats %+v", st)
	}
	if err := p.Submit(func(context.Context) {}); !errors.Is(err, dispatch.ErrClosed) {
		t.Fatalf("closed pool accepted work: %v", err)
	}
}

// TestShutdownBounded: a job longer than the budget is cancelled at the
// deadline, a queued job starts with a done context (so it can release its
// claim) instead of vanishing, and Shutdown returns ErrCut promptly.
func TestShutdownBounded(t *testing.T) {
	p := dispatch.New(1, 4, time.Minute, nil)
	started := make(chan struct{})
	var runningCut, queuedCut bool
	var mu sync.Mutex
	_ = p.Submit(func(ctx context.Context) {
		close(started)
		<-ctx.Done()
		mu.Lock()
		runningCut = true
		mu.Unlock()
	})
	<-started
	_ = p.Submit(func(ctx context.Context) {
		mu.Lock()
		queuedCut = ctx.Err() != nil
		mu.Unlock()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	err := p.Shutdown(ctx)
	took := time.Since(t0)
	if !errors.Is(err, dispatch.ErrCut) {
		t.Fatalf("Shutdown = %v, want ErrCut", err)
	}
	if took > 2*time.Second {
		t.Fatalf("Shutdown took %v with a 100ms budget", took)
	}
	mu.Lock()
	defer mu.Unlock()
	if !runningCut || !queuedCut {
		t.Fatalf("running job cut %v, queued job saw a done context %v", runningCut, queuedCut)
	}
	if err := p.Submit(func(context.Context) {}); !errors.Is(err, dispatch.ErrClosed) {
		t.Fatalf("Submit after Shutdown = %v", err)
	}
}

func TestShutdownInTime(t *testing.T) {
	p := dispatch.New(2, 4, time.Minute, nil)
	var n sync.WaitGroup
	for range 4 {
		n.Add(1)
		_ = p.Submit(func(ctx context.Context) { time.Sleep(5 * time.Millisecond); n.Done() })
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown with time to spare = %v", err)
	}
	n.Wait()
}
