// Package storetest is the conformance suite for store.Store: one set of tests
// that every implementation (memory, bolt, redis) must pass unchanged, plus
// benchmark helpers so the implementations can be compared.
//
// Expiry is tested with real time: short TTLs (100-200 ms) and polling with a
// generous deadline, never a tight timing assertion, so the suite stays reliable
// on a loaded machine. Implementations with an injectable clock test exact
// expiry instants in their own packages.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/store"
)

// Short and long TTLs used throughout the suite.
const (
	shortTTL = 150 * time.Millisecond
	longTTL  = time.Hour
	// expiryDeadline bounds how long the suite polls for a short TTL to pass.
	expiryDeadline = 10 * time.Second
	// racers is how many goroutines contend in the atomicity tests.
	racers = 16
)

// Run runs the conformance suite. open is called once per subtest and must
// return an empty store (or one where keys used by earlier subtests cannot be
// seen, e.g. a fresh key prefix); it should register its own cleanup with t.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"GetMissing", testGetMissing},
		{"CreateWithExpectZero", testCreate},
		{"CreateConflictsWhenExists", testCreateConflict},
		{"CASVersionIncrements", testCASIncrements},
		{"CASStaleVersionConflicts", testCASStale},
		{"CASOnMissingKeyConflicts", testCASMissing},
		{"SetCreatesAndIncrements", testSet},
		{"SetThenCAS", testSetThenCAS},
		{"TakeReturnsAndDeletes", testTake},
		{"TakeMissing", testTakeMissing},
		{"TakeIsAtomic", testTakeAtomic},
		{"DeleteAndRestartVersion", testDelete},
		{"DeleteMissingIsOK", testDeleteMissing},
		{"IncrFromMissing", testIncrMissing},
		{"IncrKeepsExpiry", testIncrKeepsExpiry},
		{"IncrNoExpiry", testIncrNoExpiry},
		{"IncrConcurrentSums", testIncrConcurrent},
		{"IncrWindowExpires", testIncrExpires},
		{"CASRaceOneWinner", testCASRace},
		{"CreateRaceOneWinner", testCreateRace},
		{"TTLZeroNeverExpires", testTTLZero},
		{"TTLReplacedOnWrite", testTTLReplaced},
		{"TTLMissing", testTTLMissing},
		{"ExpiredIsNotFound", testExpiry},
		{"ExpiredRestartsVersion", testExpiredRestarts},
		{"NegativeTTLRejected", testNegativeTTL},
		{"ValuesAreCopied", testCopied},
		{"EmptyValue", testEmptyValue},
		{"BigValue", testBigValue},
		{"BinaryValue", testBinaryValue},
		{"KeysAreIndependent", testIndependentKeys},
		{"CancelledContext", testCancelled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
	for _, tc := range turnCases {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			tu, ok := s.(store.Turns)
			if !ok {
				t.Fatalf("%T does not implement store.Turns", s)
			}
			tc.fn(t, s, tu)
		})
	}
}

func ctx(t *testing.T) context.Context { return t.Context() }

// mustGet fails the test unless key holds want at version ver.
func mustGet(t *testing.T, s store.Store, key string, want []byte, ver uint64) {
	t.Helper()
	rec, err := s.Get(ctx(t), key)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if !bytes.Equal(rec.Value, want) || rec.Version != ver {
		t.Fatalf("Get = (%q, v%d), want (%q, v%d)", trunc(rec.Value), rec.Version, trunc(want), ver)
	}
}

func mustNotFound(t *testing.T, s store.Store, key string) {
	t.Helper()
	rec, err := s.Get(ctx(t), key)
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get = (%q, v%d, %v), want ErrNotFound", trunc(rec.Value), rec.Version, err)
	}
}

func mustCAS(t *testing.T, s store.Store, key string, expect uint64, val []byte, ttl time.Duration) uint64 {
	t.Helper()
	v, err := s.CompareAndSwap(ctx(t), key, expect, val, ttl)
	if err != nil {
		t.Fatalf("CompareAndSwap(expect %d): %v", expect, err)
	}
	return v
}

func mustSet(t *testing.T, s store.Store, key string, val []byte, ttl time.Duration) uint64 {
	t.Helper()
	v, err := s.Set(ctx(t), key, val, ttl)
	if err != nil {
		t.Fatalf("Set: %v", err)
	}
	return v
}

func mustTTL(t *testing.T, s store.Store, key string) time.Duration {
	t.Helper()
	d, err := s.TTL(ctx(t), key)
	if err != nil {
		t.Fatalf("TTL: %v", err)
	}
	return d
}

// waitGone polls until key is reported missing by Get, or fails after expiryDeadline.
func waitGone(t *testing.T, s store.Store, key string) {
	t.Helper()
	waitGoneBy(t, func() error { _, err := s.Get(ctx(t), key); return err })
}

// waitCounterGone is waitGone for counters, which Get need not read.
func waitCounterGone(t *testing.T, s store.Store, key string) {
	t.Helper()
	waitGoneBy(t, func() error { _, err := s.TTL(ctx(t), key); return err })
}

func waitGoneBy(t *testing.T, probe func() error) {
	t.Helper()
	deadline := time.Now().Add(expiryDeadline)
	for {
		err := probe()
		if errors.Is(err, store.ErrNotFound) {
			return
		}
		if err != nil {
			t.Fatalf("probe while waiting for expiry: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("key still present %v after a %v TTL", expiryDeadline, shortTTL)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func trunc(b []byte) []byte {
	if len(b) > 32 {
		return b[:32]
	}
	return b
}

func testGetMissing(t *testing.T, s store.Store) {
	mustNotFound(t, s, "missing")
}

func testCreate(t *testing.T, s store.Store) {
	if v := mustCAS(t, s, "k", 0, []byte("one"), longTTL); v != 1 {
		t.Fatalf("create returned version %d, want 1", v)
	}
	mustGet(t, s, "k", []byte("one"), 1)
}

func testCreateConflict(t *testing.T, s store.Store) {
	mustCAS(t, s, "k", 0, []byte("one"), longTTL)
	if _, err := s.CompareAndSwap(ctx(t), "k", 0, []byte("two"), longTTL); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second create: err = %v, want ErrConflict", err)
	}
	mustGet(t, s, "k", []byte("one"), 1)
}

func testCASIncrements(t *testing.T, s store.Store) {
	var ver uint64
	for i := 1; i <= 5; i++ {
		val := []byte("v" + strconv.Itoa(i))
		ver = mustCAS(t, s, "k", ver, val, longTTL)
		if ver != uint64(i) {
			t.Fatalf("write %d returned version %d", i, ver)
		}
		mustGet(t, s, "k", val, ver)
	}
}

func testCASStale(t *testing.T, s store.Store) {
	mustCAS(t, s, "k", 0, []byte("a"), longTTL)
	mustCAS(t, s, "k", 1, []byte("b"), longTTL)
	for _, expect := range []uint64{1, 3, 100} {
		if _, err := s.CompareAndSwap(ctx(t), "k", expect, []byte("stale"), longTTL); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("CAS expect %d on v2: err = %v, want ErrConflict", expect, err)
		}
	}
	mustGet(t, s, "k", []byte("b"), 2)
}

func testCASMissing(t *testing.T, s store.Store) {
	if _, err := s.CompareAndSwap(ctx(t), "k", 1, []byte("x"), longTTL); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("CAS expect 1 on missing key: err = %v, want ErrConflict", err)
	}
	mustNotFound(t, s, "k")
}

func testSet(t *testing.T, s store.Store) {
	if v := mustSet(t, s, "k", []byte("a"), longTTL); v != 1 {
		t.Fatalf("first Set returned version %d, want 1", v)
	}
	if v := mustSet(t, s, "k", []byte("b"), longTTL); v != 2 {
		t.Fatalf("second Set returned version %d, want 2", v)
	}
	mustGet(t, s, "k", []byte("b"), 2)
}

func testSetThenCAS(t *testing.T, s store.Store) {
	v := mustSet(t, s, "k", []byte("a"), longTTL)
	v = mustCAS(t, s, "k", v, []byte("b"), longTTL)
	if v != 2 {
		t.Fatalf("CAS after Set returned version %d, want 2", v)
	}
	if v := mustSet(t, s, "k", []byte("c"), longTTL); v != 3 {
		t.Fatalf("Set after CAS returned version %d, want 3", v)
	}
}

func testTake(t *testing.T, s store.Store) {
	mustSet(t, s, "k", []byte("a"), longTTL)
	mustSet(t, s, "k", []byte("b"), longTTL)
	rec, err := s.Take(ctx(t), "k")
	if err != nil {
		t.Fatalf("Take: %v", err)
	}
	if string(rec.Value) != "b" || rec.Version != 2 {
		t.Fatalf("Take = (%q, v%d), want (b, v2)", rec.Value, rec.Version)
	}
	mustNotFound(t, s, "k")
	if _, err := s.Take(ctx(t), "k"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second Take: err = %v, want ErrNotFound", err)
	}
	if v := mustSet(t, s, "k", []byte("c"), longTTL); v != 1 {
		t.Fatalf("Set after Take returned version %d, want 1", v)
	}
}

func testTakeMissing(t *testing.T, s store.Store) {
	if _, err := s.Take(ctx(t), "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Take missing: err = %v, want ErrNotFound", err)
	}
}

func testTakeAtomic(t *testing.T, s store.Store) {
	for round := range 5 {
		key := "code" + strconv.Itoa(round)
		mustSet(t, s, key, []byte("123456"), longTTL)
		var wins, misses atomic.Int32
		runRacers(t, func() error {
			rec, err := s.Take(ctx(t), key)
			switch {
			case err == nil:
				if string(rec.Value) != "123456" {
					return fmt.Errorf("Take value %q", rec.Value)
				}
				wins.Add(1)
			case errors.Is(err, store.ErrNotFound):
				misses.Add(1)
			default:
				return err
			}
			return nil
		})
		if wins.Load() != 1 || misses.Load() != racers-1 {
			t.Fatalf("round %d: %d Takes won and %d missed, want 1 and %d", round, wins.Load(), misses.Load(), racers-1)
		}
	}
}

func testDelete(t *testing.T, s store.Store) {
	mustSet(t, s, "k", []byte("a"), longTTL)
	mustSet(t, s, "k", []byte("b"), longTTL)
	if err := s.Delete(ctx(t), "k"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	mustNotFound(t, s, "k")
	if _, err := s.TTL(ctx(t), "k"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("TTL after Delete: err = %v, want ErrNotFound", err)
	}
	if v := mustCAS(t, s, "k", 0, []byte("c"), longTTL); v != 1 {
		t.Fatalf("create after Delete returned version %d, want 1", v)
	}
}

func testDeleteMissing(t *testing.T, s store.Store) {
	if err := s.Delete(ctx(t), "missing"); err != nil {
		t.Fatalf("Delete missing: %v", err)
	}
}
