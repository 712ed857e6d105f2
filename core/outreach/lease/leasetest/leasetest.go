// Package leasetest is the conformance suite for lease.Lease: every store
// the lease runs on (memory, bbolt, Redis) must pass it unchanged.
//
// Expiry is tested with short real terms and polling under a generous
// deadline, never a tight timing assertion.
package leasetest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/outreach/lease"
)

const (
	long     = time.Hour
	short    = 200 * time.Millisecond
	deadline = 10 * time.Second
	racers   = 16
)

// Run runs the suite; open returns a fresh Lease per subtest.
func Run(t *testing.T, open func(t *testing.T) lease.Lease) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, l lease.Lease)
	}{
		{"AcquireFree", testAcquireFree},
		{"HeldIsRefused", testHeldRefused},
		{"HolderReacquiresAndRenews", testHolderRenews},
		{"RenewByOtherRefused", testRenewOther},
		{"RenewMissingRefused", testRenewMissing},
		{"ReleaseFreesAtOnce", testRelease},
		{"ReleaseByOtherIsNoop", testReleaseOther},
		{"ExpiredIsTakenOver", testExpiry},
		{"StaleHolderCannotRenew", testStale},
		{"RaceOneWinner", testRace},
		{"NamesAreIndependent", testNames},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func must(t *testing.T, ok bool, err error, want bool, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if ok != want {
		t.Fatalf("%s = %v, want %v", what, ok, want)
	}
}

func testAcquireFree(t *testing.T, l lease.Lease) {
	ok, err := l.Acquire(t.Context(), "job", "a", long)
	must(t, ok, err, true, "Acquire free")
}

func testHeldRefused(t *testing.T, l lease.Lease) {
	ok, err := l.Acquire(t.Context(), "job", "a", long)
	must(t, ok, err, true, "Acquire a")
	ok, err = l.Acquire(t.Context(), "job", "b", long)
	must(t, ok, err, false, "Acquire b while a holds")
}

func testHolderRenews(t *testing.T, l lease.Lease) {
	ok, err := l.Acquire(t.Context(), "job", "a", long)
	must(t, ok, err, true, "Acquire a")
	ok, err = l.Acquire(t.Context(), "job", "a", long)
	must(t, ok, err, true, "Acquire a again")
	ok, err = l.Renew(t.Context(), "job", "a", long)
	must(t, ok, err, true, "Renew a")
}

func testRenewOther(t *testing.T, l lease.Lease) {
	ok, err := l.Acquire(t.Context(), "job", "a", long)
	must(t, ok, err, true, "Acquire a")
	ok, err = l.Renew(t.Context(), "job", "b", long)
	must(t, ok, err, false, "Renew by b")
}

func testRenewMissing(t *testing.T, l lease.Lease) {
	ok, err := l.Renew(t.Context(), "job", "a", long)
	must(t, ok, err, false, "Renew never acquired")
}

func testRelease(t *testing.T, l lease.Lease) {
	ok, err := l.Acquire(t.Context(), "job", "a", long)
	must(t, ok, err, true, "Acquire a")
	if err := l.Release(t.Context(), "job", "a"); err != nil {
		t.Fatalf("Release: %v", err)
	}
	ok, err = l.Renew(t.Context(), "job", "a", long)
	must(t, ok, err, false, "Renew after release")
	ok, err = l.Acquire(t.Context(), "job", "b", long)
	must(t, ok, err, true, "Acquire b after release")
}

func testReleaseOther(t *testing.T, l lease.Lease) {
	ok, err := l.Acquire(t.Context(), "job", "a", long)
	must(t, ok, err, true, "Acquire a")
	if err := l.Release(t.Context(), "job", "b"); err != nil {
		t.Fatalf("Release by b: %v", err)
	}
	ok, err = l.Renew(t.Context(), "job", "a", long)
	must(t, ok, err, true, "Renew a after b's release")
}

// waitAcquire polls until owner acquires name or the deadline passes.
func waitAcquire(t *testing.T, l lease.Lease, name, owner string) {
	t.Helper()
	end := time.Now().Add(deadline)
	for time.Now().Before(end) {
		ok, err := l.Acquire(t.Context(), name, owner, long)
		if err != nil {
			t.Fatalf("Acquire %s: %v", owner, err)
		}
		if ok {
			return
		}
		time.Sleep(short / 4)
	}
	t.Fatalf("%s never acquired the expired lease", owner)
}

func testExpiry(t *testing.T, l lease.Lease) {
	ok, err := l.Acquire(t.Context(), "job", "a", short)
	must(t, ok, err, true, "Acquire a")
	waitAcquire(t, l, "job", "b")
}

func testStale(t *testing.T, l lease.Lease) {
	ok, err := l.Acquire(t.Context(), "job", "a", short)
	must(t, ok, err, true, "Acquire a")
	waitAcquire(t, l, "job", "b")
	ok, err = l.Renew(t.Context(), "job", "a", long)
	must(t, ok, err, false, "Renew by the stale holder")
	if err := l.Release(t.Context(), "job", "a"); err != nil {
		t.Fatalf("stale Release: %v", err)
	}
	ok, err = l.Renew(t.Context(), "job", "b", long)
	must(t, ok, err, true, "Renew b after the stale release")
}

func testRace(t *testing.T, l lease.Lease) {
	var wins atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ok, err := l.Acquire(context.Background(), "job", string(rune('A'+i)), long)
			if err != nil {
				t.Errorf("Acquire: %v", err)
			}
			if ok {
				wins.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	if n := wins.Load(); n != 1 {
		t.Fatalf("%d racers acquired the lease, want exactly 1", n)
	}
}

func testNames(t *testing.T, l lease.Lease) {
	ok, err := l.Acquire(t.Context(), "one", "a", long)
	must(t, ok, err, true, "Acquire one")
	ok, err = l.Acquire(t.Context(), "two", "b", long)
	must(t, ok, err, true, "Acquire two by another owner")
}
