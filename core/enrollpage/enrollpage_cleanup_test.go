package enrollpage_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/enrollpage"
	"github.com/resetbot/resetbot/core/store/memory"
)

// TestCleanupsSurviveTheSchedulerAndRunOnce: a job scheduled by one replica
// is run by another (a fresh Cleanups on the same store, as after a
// restart), only once it is due, exactly once across concurrent sweepers, and
// a failing job is retried later.
func TestCleanupsSurviveTheSchedulerAndRunOnce(t *testing.T) {
	clk := &clock{t: time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)}
	st := memory.New(memory.WithClock(clk.now))
	ctx := t.Context()
	a := enrollpage.NewCleanups(st, "slack-qr", clk.now, nil)
	for _, id := range []string{"u1", "u2", "u3"} {
		if err := a.Schedule(ctx, id, "data-"+id, clk.now().Add(10*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Cancel(ctx, "u3"); err != nil {
		t.Fatal(err)
	}
	var runs sync.Map
	var count atomic.Int32
	fn := func(_ context.Context, j enrollpage.Job) error {
		count.Add(1)
		if _, dup := runs.LoadOrStore(j.ID, j.Data); dup {
			t.Errorf("job %s ran twice", j.ID)
		}
		return nil
	}
	b := enrollpage.NewCleanups(st, "slack-qr", clk.now, nil) // another replica
	if n, err := b.Sweep(ctx, fn); n != 0 || err != nil {
		t.Fatalf("sweep before due: %d %v", n, err)
	}
	clk.add(10 * time.Minute)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = b.Sweep(ctx, fn) }()
	}
	wg.Wait()
	if count.Load() != 2 {
		t.Fatalf("ran %d jobs, want 2 (u1, u2; u3 cancelled)", count.Load())
	}
	if v, _ := runs.Load("u1"); v != "data-u1" {
		t.Fatalf("job data %v", v)
	}

	fails := 0
	flaky := func(context.Context, enrollpage.Job) error {
		fails++
		if fails < 3 {
			return errors.New("platform down")
		}
		return nil
	}
	if err := a.Schedule(ctx, "u4", "", clk.now()); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		_, _ = b.Sweep(ctx, flaky)
		clk.add(time.Minute)
	}
	if fails != 3 {
		t.Fatalf("a failing job ran %d times, want 3 (retried until it succeeds)", fails)
	}
	if n, _ := b.Sweep(ctx, flaky); n != 0 {
		t.Fatal("a job that succeeded ran again")
	}
}
