package memory_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/store"
	"github.com/resetbot/resetbot/core/store/memory"
	"github.com/resetbot/resetbot/core/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) store.Store { return memory.New() })
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, memory.New())
}

// fakeClock is a manually advanced clock safe for concurrent use.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestExpiryWithClock(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := memory.New(memory.WithClock(clk.Now))
	if _, err := s.Set(ctx, "k", []byte("v"), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Incr(ctx, "c", 1, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	clk.Add(4 * time.Second)
	if _, err := s.Incr(ctx, "c", 1, time.Hour); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		advance time.Duration
		wantTTL time.Duration
		gone    bool
	}{
		{"before", 0, 6 * time.Second, false},
		{"just before", 6*time.Second - time.Nanosecond, time.Nanosecond, false},
		{"at expiry", time.Nanosecond, 0, true},
		{"after", time.Hour, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk.Add(tc.advance)
			for _, key := range []string{"k", "c"} {
				d, err := s.TTL(ctx, key)
				if tc.gone {
					if !errors.Is(err, store.ErrNotFound) {
						t.Fatalf("%s: TTL = %v, %v; want ErrNotFound", key, d, err)
					}
					continue
				}
				if err != nil || d != tc.wantTTL {
					t.Fatalf("%s: TTL = %v, %v; want %v", key, d, err, tc.wantTTL)
				}
			}
		})
	}
}

func TestSweepBoundsMemory(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := memory.New(memory.WithClock(clk.Now), memory.WithSweepInterval(time.Minute))
	if _, err := s.Set(ctx, "enrolled", []byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		if _, err := s.Set(ctx, "code:"+strconv.Itoa(i), []byte("x"), 30*time.Second); err != nil {
			t.Fatal(err)
		}
		clk.Add(100 * time.Millisecond)
	}
	// 1000 writes 100 ms apart with a 30 s TTL and a 1 min sweep: at most about
	// 90 s worth of writes (900 keys) may linger, never all 1000.
	if n := s.Len(); n > 901 {
		t.Fatalf("store holds %d keys after sweeping, want <= 901", n)
	}
	clk.Add(2 * time.Minute)
	if _, err := s.Set(ctx, "trigger", []byte("x"), time.Second); err != nil {
		t.Fatal(err)
	}
	if n := s.Len(); n != 2 {
		t.Fatalf("store holds %d keys after everything expired, want 2", n)
	}
}

func TestMaxKeys(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	s := memory.New(memory.WithClock(clk.Now), memory.WithMaxKeys(3))
	for i := range 3 {
		if _, err := s.Set(ctx, strconv.Itoa(i), []byte("x"), 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name    string
		advance time.Duration
		op      func() error
		wantErr error
	}{
		{"new key refused", 0, func() error { _, err := s.Set(ctx, "new", nil, time.Second); return err }, store.ErrUnavailable},
		{"new counter refused", 0, func() error { _, err := s.Incr(ctx, "cnt", 1, time.Second); return err }, store.ErrUnavailable},
		{"new CAS refused", 0, func() error { _, err := s.CompareAndSwap(ctx, "new", 0, nil, time.Second); return err }, store.ErrUnavailable},
		{"existing key ok", 0, func() error { _, err := s.Set(ctx, "1", nil, time.Second); return err }, nil},
		{"room after expiry", 20 * time.Second, func() error { _, err := s.Set(ctx, "new", nil, time.Second); return err }, nil},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			clk.Add(st.advance)
			if err := st.op(); !errors.Is(err, st.wantErr) || (st.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, st.wantErr)
			}
		})
	}
}

func TestIncrOnRecordFails(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	if _, err := s.Set(ctx, "k", []byte("not a number"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Incr(ctx, "k", 1, 0); err == nil {
		t.Fatal("Incr on a record succeeded")
	}
}
