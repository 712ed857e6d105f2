package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/store"
)

// runRacers starts racers goroutines that call fn as close to simultaneously as
// possible and fails the test if any returns an error.
func runRacers(t *testing.T, fn func() error) {
	t.Helper()
	var (
		start = make(chan struct{})
		wg    sync.WaitGroup
		errs  = make(chan error, racers)
	)
	for range racers {
		wg.Go(func() {
			<-start
			if err := fn(); err != nil {
				errs <- err
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("racer: %v", err)
	}
}

func testIncrMissing(t *testing.T, s store.Store) {
	n, err := s.Incr(ctx(t), "c", 3, longTTL)
	if err != nil || n != 3 {
		t.Fatalf("Incr missing = %d, %v; want 3", n, err)
	}
	if d := mustTTL(t, s, "c"); d <= 0 || d > longTTL {
		t.Fatalf("TTL of new counter = %v, want in (0, %v]", d, longTTL)
	}
	n, err = s.Incr(ctx(t), "c", -5, longTTL)
	if err != nil || n != -2 {
		t.Fatalf("Incr -5 = %d, %v; want -2", n, err)
	}
}

func testIncrKeepsExpiry(t *testing.T, s store.Store) {
	if _, err := s.Incr(ctx(t), "c", 1, longTTL); err != nil {
		t.Fatalf("Incr: %v", err)
	}
	// A second Incr with a short ttl must not shorten the window.
	if n, err := s.Incr(ctx(t), "c", 1, shortTTL); err != nil || n != 2 {
		t.Fatalf("Incr = %d, %v; want 2", n, err)
	}
	if d := mustTTL(t, s, "c"); d < longTTL/2 {
		t.Fatalf("TTL after second Incr = %v, want about %v (kept)", d, longTTL)
	}
	// A second Incr with ttl 0 must not remove the expiry either.
	if _, err := s.Incr(ctx(t), "c", 1, 0); err != nil {
		t.Fatalf("Incr: %v", err)
	}
	if d := mustTTL(t, s, "c"); d < longTTL/2 {
		t.Fatalf("TTL after Incr with ttl 0 = %v, want about %v (kept)", d, longTTL)
	}
}

func testIncrNoExpiry(t *testing.T, s store.Store) {
	if _, err := s.Incr(ctx(t), "c", 1, 0); err != nil {
		t.Fatalf("Incr: %v", err)
	}
	if _, err := s.Incr(ctx(t), "c", 1, longTTL); err != nil {
		t.Fatalf("Incr: %v", err)
	}
	if d := mustTTL(t, s, "c"); d != 0 {
		t.Fatalf("TTL of counter created with ttl 0 = %v, want 0 (never)", d)
	}
}

func testIncrConcurrent(t *testing.T, s store.Store) {
	const per = 25
	runRacers(t, func() error {
		for range per {
			if _, err := s.Incr(ctx(t), "c", 2, longTTL); err != nil {
				return err
			}
		}
		return nil
	})
	n, err := s.Incr(ctx(t), "c", 0, longTTL)
	if err != nil || n != racers*per*2 {
		t.Fatalf("counter = %d, %v; want %d", n, err, racers*per*2)
	}
}

func testIncrExpires(t *testing.T, s store.Store) {
	for range 3 {
		if _, err := s.Incr(ctx(t), "c", 1, shortTTL); err != nil {
			t.Fatalf("Incr: %v", err)
		}
	}
	waitCounterGone(t, s, "c")
	if n, err := s.Incr(ctx(t), "c", 1, longTTL); err != nil || n != 1 {
		t.Fatalf("Incr after window = %d, %v; want 1 (new window)", n, err)
	}
	if d := mustTTL(t, s, "c"); d < longTTL/2 {
		t.Fatalf("TTL of new window = %v, want about %v", d, longTTL)
	}
}

func testCASRace(t *testing.T, s store.Store) {
	for round := range 5 {
		key := "sess" + strconv.Itoa(round)
		base := mustSet(t, s, key, []byte("start"), longTTL)
		var wins, conflicts atomic.Int32
		var winner atomic.Value
		var id atomic.Int32
		runRacers(t, func() error {
			val := []byte("writer" + strconv.Itoa(int(id.Add(1))))
			v, err := s.CompareAndSwap(ctx(t), key, base, val, longTTL)
			switch {
			case err == nil:
				if v != base+1 {
					return fmt.Errorf("winner got version %d, want %d", v, base+1)
				}
				wins.Add(1)
				winner.Store(val)
			case errors.Is(err, store.ErrConflict):
				conflicts.Add(1)
			default:
				return err
			}
			return nil
		})
		if wins.Load() != 1 || conflicts.Load() != racers-1 {
			t.Fatalf("round %d: %d CAS won, %d conflicted; want 1 and %d", round, wins.Load(), conflicts.Load(), racers-1)
		}
		mustGet(t, s, key, winner.Load().([]byte), base+1)
	}
}

func testCreateRace(t *testing.T, s store.Store) {
	var wins atomic.Int32
	runRacers(t, func() error {
		_, err := s.CompareAndSwap(ctx(t), "k", 0, []byte("x"), longTTL)
		if err == nil {
			wins.Add(1)
		} else if !errors.Is(err, store.ErrConflict) {
			return err
		}
		return nil
	})
	if wins.Load() != 1 {
		t.Fatalf("%d creates won, want 1", wins.Load())
	}
}

func testTTLZero(t *testing.T, s store.Store) {
	mustSet(t, s, "k", []byte("enrolled"), 0)
	if d := mustTTL(t, s, "k"); d != 0 {
		t.Fatalf("TTL of ttl-0 key = %v, want 0", d)
	}
	mustCAS(t, s, "k2", 0, []byte("enrolled"), 0)
	if d := mustTTL(t, s, "k2"); d != 0 {
		t.Fatalf("TTL of ttl-0 created key = %v, want 0", d)
	}
	time.Sleep(shortTTL + 50*time.Millisecond)
	mustGet(t, s, "k", []byte("enrolled"), 1)
}

func testTTLReplaced(t *testing.T, s store.Store) {
	v := mustSet(t, s, "k", []byte("a"), longTTL)
	if d := mustTTL(t, s, "k"); d <= 0 || d > longTTL {
		t.Fatalf("TTL = %v, want in (0, %v]", d, longTTL)
	}
	v = mustCAS(t, s, "k", v, []byte("b"), 0)
	if d := mustTTL(t, s, "k"); d != 0 {
		t.Fatalf("TTL after CAS with ttl 0 = %v, want 0", d)
	}
	v = mustCAS(t, s, "k", v, []byte("c"), 2*longTTL)
	if d := mustTTL(t, s, "k"); d <= longTTL || d > 2*longTTL {
		t.Fatalf("TTL after CAS with 2h = %v, want in (%v, %v]", d, longTTL, 2*longTTL)
	}
	mustSet(t, s, "k", []byte("d"), 0)
	if d := mustTTL(t, s, "k"); d != 0 {
		t.Fatalf("TTL after Set with ttl 0 = %v, want 0", d)
	}
	mustSet(t, s, "k", []byte("e"), shortTTL)
	waitGone(t, s, "k")
	_ = v
}

func testTTLMissing(t *testing.T, s store.Store) {
	if _, err := s.TTL(ctx(t), "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("TTL missing: err = %v, want ErrNotFound", err)
	}
}

func testExpiry(t *testing.T, s store.Store) {
	mustSet(t, s, "set", []byte("a"), shortTTL)
	mustCAS(t, s, "cas", 0, []byte("a"), shortTTL)
	mustSet(t, s, "keep", []byte("a"), longTTL)
	waitGone(t, s, "set")
	waitGone(t, s, "cas")
	for _, key := range []string{"set", "cas"} {
		if _, err := s.TTL(ctx(t), key); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("TTL of expired %s: err = %v, want ErrNotFound", key, err)
		}
		if _, err := s.Take(ctx(t), key); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Take of expired %s: err = %v, want ErrNotFound", key, err)
		}
	}
	mustGet(t, s, "keep", []byte("a"), 1)
}

func testExpiredRestarts(t *testing.T, s store.Store) {
	mustSet(t, s, "k", []byte("a"), longTTL)
	mustSet(t, s, "k", []byte("b"), shortTTL)
	waitGone(t, s, "k")
	if _, err := s.CompareAndSwap(ctx(t), "k", 2, []byte("c"), longTTL); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("CAS on expired key with its old version: err = %v, want ErrConflict", err)
	}
	if v := mustCAS(t, s, "k", 0, []byte("c"), longTTL); v != 1 {
		t.Fatalf("create after expiry returned version %d, want 1", v)
	}
}

func testNegativeTTL(t *testing.T, s store.Store) {
	if _, err := s.Set(ctx(t), "k", []byte("a"), -time.Second); err == nil {
		t.Fatal("Set with negative ttl succeeded")
	}
	if _, err := s.CompareAndSwap(ctx(t), "k", 0, []byte("a"), -time.Second); err == nil {
		t.Fatal("CompareAndSwap with negative ttl succeeded")
	}
	if _, err := s.Incr(ctx(t), "c", 1, -time.Second); err == nil {
		t.Fatal("Incr with negative ttl succeeded")
	}
	mustNotFound(t, s, "k")
}

func testCopied(t *testing.T, s store.Store) {
	in := []byte("original")
	mustSet(t, s, "k", in, longTTL)
	copy(in, "XXXXXXXX")
	rec, err := s.Get(ctx(t), "k")
	if err != nil || string(rec.Value) != "original" {
		t.Fatalf("after mutating the Set argument Get = %q, %v", rec.Value, err)
	}
	copy(rec.Value, "YYYYYYYY")
	mustGet(t, s, "k", []byte("original"), 1)

	in = []byte("second")
	mustCAS(t, s, "k", 1, in, longTTL)
	copy(in, "ZZZZZZ")
	mustGet(t, s, "k", []byte("second"), 2)
}

func testEmptyValue(t *testing.T, s store.Store) {
	for _, v := range [][]byte{nil, {}} {
		if err := s.Delete(ctx(t), "k"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		mustCAS(t, s, "k", 0, v, longTTL)
		rec, err := s.Get(ctx(t), "k")
		if err != nil || len(rec.Value) != 0 || rec.Version != 1 {
			t.Fatalf("Get empty value = (%q, v%d, %v)", rec.Value, rec.Version, err)
		}
	}
}

func testBigValue(t *testing.T, s store.Store) {
	big := make([]byte, 64<<10)
	for i := range big {
		big[i] = byte(i * 7)
	}
	mustSet(t, s, "big", big, longTTL)
	mustGet(t, s, "big", big, 1)
	rec, err := s.Take(ctx(t), "big")
	if err != nil || !bytes.Equal(rec.Value, big) {
		t.Fatalf("Take big value: equal=%v, %v", bytes.Equal(rec.Value, big), err)
	}
}

func testBinaryValue(t *testing.T, s store.Store) {
	bin := []byte{0, 1, 2, 0xff, 0xfe, '\r', '\n', 0, '"', '\\', 0x80, 0}
	mustCAS(t, s, "bin", 0, bin, longTTL)
	mustGet(t, s, "bin", bin, 1)
	// Keys may hold any text a caller namespaces with.
	odd := "sess:{tag}:ü ä/\\\"*?"
	mustSet(t, s, odd, bin, longTTL)
	mustGet(t, s, odd, bin, 1)
}

func testIndependentKeys(t *testing.T, s store.Store) {
	mustSet(t, s, "a", []byte("1"), longTTL)
	mustSet(t, s, "ab", []byte("2"), longTTL)
	mustSet(t, s, "ab", []byte("3"), longTTL)
	if err := s.Delete(ctx(t), "a"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	mustGet(t, s, "ab", []byte("3"), 2)
	mustNotFound(t, s, "b")
}

func testCancelled(t *testing.T, s store.Store) {
	mustSet(t, s, "k", []byte("a"), longTTL)
	c, cancel := context.WithCancel(ctx(t))
	cancel()
	ops := map[string]func() error{
		"Get":    func() error { _, err := s.Get(c, "k"); return err },
		"CAS":    func() error { _, err := s.CompareAndSwap(c, "k", 1, []byte("b"), longTTL); return err },
		"Set":    func() error { _, err := s.Set(c, "k", []byte("b"), longTTL); return err },
		"Take":   func() error { _, err := s.Take(c, "k"); return err },
		"Delete": func() error { return s.Delete(c, "k") },
		"Incr":   func() error { _, err := s.Incr(c, "c", 1, longTTL); return err },
		"TTL":    func() error { _, err := s.TTL(c, "k"); return err },
	}
	for name, op := range ops {
		err := op()
		if !errors.Is(err, context.Canceled) || !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s with cancelled context: err = %v, want context.Canceled wrapped with ErrUnavailable", name, err)
		}
	}
	// Nothing may have changed.
	mustGet(t, s, "k", []byte("a"), 1)
	if _, err := s.TTL(ctx(t), "c"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("counter written under a cancelled context: %v", err)
	}
}
