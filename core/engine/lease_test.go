package engine

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/store"
)

// renewals is a store.Turns that records lease renewals by owner.
type renewals struct {
	store.Turns
	mu    sync.Mutex
	by    map[string]int
	lost  bool
	calls int
}

func (r *renewals) RenewTurn(_ context.Context, k store.TurnKeys, _ time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.by[k.Owner]++
	r.calls++
	if r.lost {
		return store.ErrLeaseLost
	}
	return nil
}

func (r *renewals) count(owner string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.by[owner]
}

func leaseEngine(lease time.Duration) (*Engine, *renewals) {
	r := &renewals{by: map[string]int{}}
	return &Engine{opt: Options{Lease: lease, Log: slog.New(slog.DiscardHandler)}, turns: r}, r
}

// TestLeaseRenewalsWithReuse: leases reused from turn to turn renew the
// turn holding them and no other. Quick turns (released long before a
// third of the lease) never renew; slow ones renew about every third of
// the lease while held and stop when released, whatever ran on their lease
// before. Run with -race: a reused lease must not be shared with a renewal
// of an earlier turn.
func TestLeaseRenewalsWithReuse(t *testing.T) {
	const lease = 300 * time.Millisecond
	e, r := leaseEngine(lease)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				_, l := e.keepLease(context.Background(), store.TurnKeys{Owner: "quick-" + strconv.Itoa(g) + "-" + strconv.Itoa(i)})
				l.release()
			}
		})
	}
	for g := range 3 {
		wg.Go(func() {
			owner := "slow-" + strconv.Itoa(g)
			ctx, l := e.keepLease(context.Background(), store.TurnKeys{Owner: owner})
			time.Sleep(lease + lease/2)
			if ctx.Err() != nil {
				t.Errorf("%s: context ended while the lease was kept: %v", owner, context.Cause(ctx))
			}
			l.release()
			if ctx.Err() == nil {
				t.Errorf("%s: context not ended by release", owner)
			}
			if n := r.count(owner); n < 2 || n > 5 {
				t.Errorf("%s renewed %d times in 1.5 leases, want about 4", owner, n)
			}
		})
	}
	wg.Wait()
	before := map[string]int{}
	r.mu.Lock()
	for o, n := range r.by {
		if strings.HasPrefix(o, "quick-") {
			t.Errorf("quick turn %s renewed %d times", o, n)
		}
		before[o] = n
	}
	r.mu.Unlock()
	time.Sleep(lease)
	for o, n := range before {
		if got := r.count(o); got != n {
			t.Errorf("%s renewed after release: %d, then %d", o, n, got)
		}
	}
	// A lease reused after slow turns still renews a new slow turn.
	_, l := e.keepLease(context.Background(), store.TurnKeys{Owner: "again"})
	time.Sleep(lease / 2)
	l.release()
	if n := r.count("again"); n != 1 {
		t.Errorf("reused lease renewed %d times in half a lease, want 1", n)
	}
}

// TestLeaseLostEndsTurnContext: a renewal that finds the lease taken ends
// the step's context with store.ErrLeaseLost and renews no more.
func TestLeaseLostEndsTurnContext(t *testing.T) {
	e, r := leaseEngine(60 * time.Millisecond)
	r.lost = true
	ctx, l := e.keepLease(context.Background(), store.TurnKeys{Owner: "o"})
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("context not ended after the lease was lost")
	}
	if !errors.Is(context.Cause(ctx), store.ErrLeaseLost) {
		t.Fatalf("cause %v, want ErrLeaseLost", context.Cause(ctx))
	}
	time.Sleep(100 * time.Millisecond)
	l.release()
	if n := r.count("o"); n != 1 {
		t.Fatalf("renewed %d times, want 1", n)
	}
}

// BenchmarkKeepLease is a quick turn's lease: kept and released.
func BenchmarkKeepLease(b *testing.B) {
	e, _ := leaseEngine(5 * time.Second)
	ctx := context.Background()
	k := store.TurnKeys{Owner: "o"}
	b.ReportAllocs()
	for b.Loop() {
		_, l := e.keepLease(ctx, k)
		l.release()
	}
}
