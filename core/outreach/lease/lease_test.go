package lease_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/outreach/lease"
	"github.com/resetbot/resetbot/core/outreach/lease/leasetest"
	"github.com/resetbot/resetbot/core/store/bolt"
	"github.com/resetbot/resetbot/core/store/memory"
	"github.com/resetbot/resetbot/core/store/redis"
	"github.com/resetbot/resetbot/internal/testserver"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testserver.StopShared()
	os.Exit(code)
}

func TestConformanceMemory(t *testing.T) {
	leasetest.Run(t, func(t *testing.T) lease.Lease { return lease.New(memory.New()) })
}

func TestConformanceBolt(t *testing.T) {
	leasetest.Run(t, func(t *testing.T) lease.Lease {
		st, err := bolt.Open(filepath.Join(t.TempDir(), "s.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return lease.New(st)
	})
}

var prefixes atomic.Int64

func openRedis(t testing.TB) *redis.Store {
	addr := testserver.SharedRedis(t)
	s, err := redis.Open(context.Background(), redis.Config{Addrs: []string{addr},
		KeyPrefix: "l" + strconv.FormatInt(prefixes.Add(1), 10) + ":"})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformanceRedis(t *testing.T) {
	leasetest.Run(t, func(t *testing.T) lease.Lease { return lease.New(openRedis(t)) })
}

// TestRunnerTakeover runs two replicas' Runners on one Redis: exactly one
// runs the job at any moment, and when the holder stops (its process
// context ends) the other takes over.
func TestRunnerTakeover(t *testing.T) {
	l := lease.New(openRedis(t))
	var running, maxRunning atomic.Int32
	var ran [2]atomic.Int32
	job := func(i int) func(ctx context.Context) {
		return func(ctx context.Context) {
			n := running.Add(1)
			for {
				m := maxRunning.Load()
				if n <= m || maxRunning.CompareAndSwap(m, n) {
					break
				}
			}
			ran[i].Add(1)
			<-ctx.Done()
			running.Add(-1)
		}
	}
	ctxs := [2]context.Context{}
	cancels := [2]context.CancelFunc{}
	var wg sync.WaitGroup
	for i := range 2 {
		ctxs[i], cancels[i] = context.WithCancel(context.Background())
		r := &lease.Runner{Lease: l, Name: "watch:x", Owner: lease.NewOwner(), TTL: 600 * time.Millisecond}
		wg.Add(1)
		go func() { defer wg.Done(); r.Run(ctxs[i], job(i)) }()
	}
	waitFor(t, func() bool { return ran[0].Load()+ran[1].Load() == 1 })
	holder := 0
	if ran[1].Load() == 1 {
		holder = 1
	}
	cancels[holder]()
	waitFor(t, func() bool { return ran[1-holder].Load() == 1 })
	cancels[1-holder]()
	wg.Wait()
	if m := maxRunning.Load(); m != 1 {
		t.Fatalf("%d jobs ran at once, want 1", m)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	end := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(end) {
			t.Fatal("condition not reached")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
