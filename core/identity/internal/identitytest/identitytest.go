// Package identitytest holds test helpers shared by the identity verifiers: a
// store wrapper that remembers every value ever written, for leak sweeps, and a
// settable clock. It is internal and imported only from tests.
package identitytest

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/store"
)

// Recorder wraps a store.Store and keeps a copy of every key and value written
// through it, including values later overwritten or deleted.
type Recorder struct {
	store.Store
	mu     sync.Mutex
	writes []Write
}

// Write is one recorded write.
type Write struct {
	Key   string
	Value []byte
	TTL   time.Duration
}

// NewRecorder wraps st.
func NewRecorder(st store.Store) *Recorder { return &Recorder{Store: st} }

func (r *Recorder) record(key string, value []byte, ttl time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes = append(r.writes, Write{Key: key, Value: bytes.Clone(value), TTL: ttl})
}

// CompareAndSwap records the write, then forwards it.
func (r *Recorder) CompareAndSwap(ctx context.Context, key string, expect uint64, value []byte, ttl time.Duration) (uint64, error) {
	r.record(key, value, ttl)
	return r.Store.CompareAndSwap(ctx, key, expect, value, ttl)
}

// Set records the write, then forwards it.
func (r *Recorder) Set(ctx context.Context, key string, value []byte, ttl time.Duration) (uint64, error) {
	r.record(key, value, ttl)
	return r.Store.Set(ctx, key, value, ttl)
}

// Writes returns every recorded write, in order.
func (r *Recorder) Writes() []Write {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Write(nil), r.writes...)
}

// AssertAbsent fails t if any recorded key or value contains one of needles,
// compared case-insensitively (base32 and hex encodings vary in case).
func (r *Recorder) AssertAbsent(t testing.TB, needles ...string) {
	t.Helper()
	writes := r.Writes()
	if len(writes) == 0 {
		t.Fatal("no writes recorded: the sweep would prove nothing")
	}
	for _, w := range writes {
		hay := strings.ToLower(w.Key + "\x00" + string(w.Value))
		for _, n := range needles {
			if n != "" && strings.Contains(hay, strings.ToLower(n)) {
				t.Errorf("store write to %q contains a secret (%d bytes)", w.Key, len(n))
			}
		}
	}
}

// Clock is a settable clock for tests. The zero value is not usable; use NewClock.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
