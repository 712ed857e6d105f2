package regulation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/store"
)

// recorder wraps a store, remembers the keys and TTLs written, and fails
// the methods named in fail with store.ErrUnavailable.
type recorder struct {
	store.Store
	mu   sync.Mutex
	keys map[string]time.Duration
	fail map[string]bool
}

func (r *recorder) failing(m string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail[m] {
		return fmt.Errorf("fake %s: %w", m, store.ErrUnavailable)
	}
	return nil
}

func (r *recorder) note(key string, ttl time.Duration) {
	r.mu.Lock()
	r.keys[key] = ttl
	r.mu.Unlock()
}

func (r *recorder) Get(ctx context.Context, key string) (store.Record, error) {
	if err := r.failing("Get"); err != nil {
		return store.Record{}, err
	}
	return r.Store.Get(ctx, key)
}

func (r *recorder) CompareAndSwap(ctx context.Context, key string, expect uint64, v []byte, ttl time.Duration) (uint64, error) {
	if err := r.failing("CompareAndSwap"); err != nil {
		return 0, err
	}
	r.note(key, ttl)
	return r.Store.CompareAndSwap(ctx, key, expect, v, ttl)
}

func (r *recorder) Delete(ctx context.Context, key string) error {
	if err := r.failing("Delete"); err != nil {
		return err
	}
	return r.Store.Delete(ctx, key)
}

func (r *recorder) Incr(ctx context.Context, key string, d int64, ttl time.Duration) (int64, error) {
	if err := r.failing("Incr"); err != nil {
		return 0, err
	}
	r.note(key, ttl)
	return r.Store.Incr(ctx, key, d, ttl)
}

// TestStoreFailure: every store error fails closed.
func TestStoreFailure(t *testing.T) {
	k := User("erin")
	ops := map[string]func(r *Regulator) (Decision, error){
		"Check":     func(r *Regulator) (Decision, error) { return r.Check(ctx, k) },
		"Fail":      func(r *Regulator) (Decision, error) { return r.Fail(ctx, k) },
		"Succeed":   func(r *Regulator) (Decision, error) { return Decision{}, r.Succeed(ctx, k) },
		"Reset":     func(r *Regulator) (Decision, error) { return Decision{}, r.Reset(ctx, k) },
		"AllowSend": func(r *Regulator) (Decision, error) { return r.AllowSend(ctx, "+15555550100", "erin") },
	}
	tests := []struct {
		op, broken string
	}{
		{"Check", "Get"},
		{"Fail", "Get"},
		{"Fail", "CompareAndSwap"},
		{"Succeed", "Get"},
		{"Succeed", "CompareAndSwap"},
		{"Reset", "Delete"},
		{"AllowSend", "Incr"},
	}
	for _, tt := range tests {
		t.Run(tt.op+"/"+tt.broken, func(t *testing.T) {
			f := newFixture(t, Limits{}, SendLimits{})
			f.must(f.reg.Fail(ctx, k)) // so Succeed has something to write
			f.st.fail[tt.broken] = true
			d, err := ops[tt.op](f.reg)
			if !errors.Is(err, store.ErrUnavailable) {
				t.Fatalf("err = %v, want store.ErrUnavailable", err)
			}
			if d.Allowed {
				t.Fatal("allowed on a store error")
			}
		})
	}
	t.Run("corrupt record", func(t *testing.T) {
		f := newFixture(t, Limits{}, SendLimits{})
		if _, err := f.st.Store.Set(ctx, k.storeKey(), []byte("{not json"), time.Hour); err != nil {
			t.Fatal(err)
		}
		if d, err := f.reg.Check(ctx, k); err == nil || d.Allowed {
			t.Fatalf("Check = %+v, %v; want error", d, err)
		}
		if err := f.reg.Reset(ctx, k); err != nil {
			t.Fatal(err)
		}
		if d := f.must(f.reg.Check(ctx, k)); !d.Allowed {
			t.Fatalf("Check after Reset = %+v", d)
		}
	})
}

// TestConcurrentFail: compare-and-swap loses no failure under contention.
func TestConcurrentFail(t *testing.T) {
	f := newFixture(t, Limits{MaxFailures: 100, Window: time.Hour}, SendLimits{})
	k := User("frank")
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for range 40 {
		wg.Go(func() {
			if _, err := f.reg.Fail(ctx, k); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st, _, err := f.reg.load(ctx, k)
	if err != nil || st.Consecutive != 40 || st.WindowCount != 40 {
		t.Fatalf("state = %+v, %v; want 40 failures", st, err)
	}
}

// TestStoreKeys: store keys carry no personal data, and every record but a
// hard-cap lock expires.
func TestStoreKeys(t *testing.T) {
	f := newFixture(t, Limits{}, SendLimits{})
	for _, k := range allScopes {
		f.must(f.reg.Fail(ctx, k))
	}
	f.must(f.reg.AllowSend(ctx, "+15555550199", "uid=alice,ou=people,dc=example,dc=org"))
	if len(f.st.keys) != 7 {
		t.Fatalf("keys written: %v", f.st.keys)
	}
	for key, ttl := range f.st.keys {
		for _, pii := range []string{"alice", "5555", "U123", "slack"} {
			if strings.Contains(key, pii) {
				t.Errorf("store key %q contains %q", key, pii)
			}
		}
		if ttl <= 0 {
			t.Errorf("store key %q has no expiry", key)
		}
	}
}
