package regulation

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
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

func (r *recorder) Set(ctx context.Context, key string, v []byte, ttl time.Duration) (uint64, error) {
	if err := r.failing("Set"); err != nil {
		return 0, err
	}
	r.note(key, ttl)
	return r.Store.Set(ctx, key, v, ttl)
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

func (r *recorder) TTL(ctx context.Context, key string) (time.Duration, error) {
	if err := r.failing("TTL"); err != nil {
		return 0, err
	}
	return r.Store.TTL(ctx, key)
}

// TestStoreFailure: every store error fails closed.
func TestStoreFailure(t *testing.T) {
	k := User("erin").For("app")
	ops := map[string]func(r *Regulator) (Decision, error){
		"Attempt":   func(r *Regulator) (Decision, error) { return r.Attempt(ctx, k) },
		"Check":     func(r *Regulator) (Decision, error) { return r.Check(ctx, k) },
		"Fail":      func(r *Regulator) (Decision, error) { return r.Fail(ctx, k) },
		"Succeed":   func(r *Regulator) (Decision, error) { return Decision{}, r.Succeed(ctx, k) },
		"Lift":      func(r *Regulator) (Decision, error) { return Decision{}, r.Lift(ctx, k) },
		"Notice":    func(r *Regulator) (Decision, error) { _, err := r.Notice(ctx, k); return Decision{}, err },
		"AllowSend": func(r *Regulator) (Decision, error) { return r.AllowSend(ctx, "+15555550100", "erin") },
	}
	tests := []struct {
		op, broken string
	}{
		{"Attempt", "Get"},
		{"Attempt", "Incr"},
		{"Check", "Get"},
		{"Fail", "Incr"},
		{"Succeed", "Incr"},
		{"Succeed", "Delete"},
		{"Lift", "Delete"},
		{"Notice", "Incr"},
		{"AllowSend", "Incr"},
	}
	for _, tt := range tests {
		t.Run(tt.op+"/"+tt.broken, func(t *testing.T) {
			f := newFixture(t, Limits{}, SendLimits{})
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
	t.Run("ban write", func(t *testing.T) {
		f := newFixture(t, Limits{}, SendLimits{})
		for range DefaultAccountMaxFailures - 1 {
			f.try(k)
		}
		f.st.fail["Set"] = true
		if d, err := f.reg.Fail(ctx, k); !errors.Is(err, store.ErrUnavailable) || d.Allowed {
			t.Fatalf("Fail that starts a ban = %+v, %v", d, err)
		}
	})
	t.Run("corrupt ban", func(t *testing.T) {
		f := newFixture(t, Limits{}, SendLimits{})
		if _, err := f.st.Store.Set(ctx, f.reg.n.storeKey(k)+recBan, []byte("{not a time"), time.Hour); err != nil {
			t.Fatal(err)
		}
		if d, err := f.reg.Attempt(ctx, k); err == nil || d.Allowed {
			t.Fatalf("Attempt = %+v, %v; want error", d, err)
		}
		if err := f.reg.Lift(ctx, k); err != nil {
			t.Fatal(err)
		}
		if d := f.must(f.reg.Attempt(ctx, k)); !d.Allowed {
			t.Fatalf("Attempt after Lift = %+v", d)
		}
	})
}

// concurrentGuesses plays n simultaneous verifications against one account
// factor, each from its own caller number (spoofed caller IDs cost an
// attacker nothing), and returns how many answers got checked and how many
// bans were started.
func concurrentGuesses(t *testing.T, reg *Regulator, n int) (checked, started int64) {
	t.Helper()
	acct := User("uid=victim,ou=people,dc=example,dc=org").For("app")
	var wg sync.WaitGroup
	var c, s atomic.Int64
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			keys := []Key{Caller(fmt.Sprintf("+1555%07d", i)), ChannelUser(fmt.Sprintf("twilio:CA%032d", i)), acct}
			d, err := reg.Attempt(ctx, keys...)
			if err != nil {
				errs <- err
				return
			}
			if !d.Allowed {
				return
			}
			c.Add(1) // the TOTP guess would be checked here
			d, err = reg.Fail(ctx, keys...)
			if err != nil {
				errs <- err
				return
			}
			if d.Started {
				s.Add(1)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return c.Load(), s.Load()
}

// TestConcurrentGuesses: 60 simultaneous guesses against one account whose
// limit is 10 get at most 10 checked, and exactly one ban starts once they
// all fail.
func TestConcurrentGuesses(t *testing.T) {
	f := newFixture(t, Limits{}, SendLimits{})
	checked, started := concurrentGuesses(t, f.reg, 60)
	t.Logf("memory: %d of 60 checked, %d bans started", checked, started)
	if checked > DefaultAccountMaxFailures || checked == 0 {
		t.Fatalf("%d guesses checked, limit %d", checked, DefaultAccountMaxFailures)
	}
	if checked == DefaultAccountMaxFailures && started != 1 {
		t.Fatalf("%d bans started, want 1", started)
	}
	if d := f.must(f.reg.Attempt(ctx, User("uid=victim,ou=people,dc=example,dc=org").For("app"))); d.Allowed {
		t.Fatalf("after the burst: %+v, want refused", d)
	}
}

// TestStoreKeys: store keys carry no personal data, no record lives
// forever, and a key cannot be recomputed from an identifier without the
// HMAC key (an unkeyed SHA-256, or the HMAC under another key, finds
// nothing in a dump of the store).
func TestStoreKeys(t *testing.T) {
	f := newFixture(t, Limits{}, SendLimits{})
	keys := append(append([]Key{}, identityKeys...), accountKeys...)
	keys = append(keys, f.reg.Typed("alice"), Destination("+15555550199"))
	for range DefaultMaxFailures {
		f.try(keys...)
	}
	f.must(f.reg.AllowSend(ctx, "+15555550199", "uid=alice,ou=people,dc=example,dc=org"))
	if len(f.st.keys) < 10 {
		t.Fatalf("keys written: %v", f.st.keys)
	}
	ids := []string{"uid=alice,ou=people,dc=example,dc=org", "+15555550199", "+15555550100", "slack:T01:U123", "alice"}
	other, err := New(f.st.Store, []byte("another key of 32 bytes or more!"), Limits{}, SendLimits{}, f.clock.Now)
	if err != nil {
		t.Fatal(err)
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
		for _, id := range ids {
			for _, scope := range []Scope{ScopeUser, ScopeCaller, ScopeChannelUser, ScopeDestination, ScopeTyped} {
				plain := sha256.Sum256([]byte(string(scope) + "\x00" + id))
				if strings.Contains(key, base64.RawURLEncoding.EncodeToString(plain[:16])) {
					t.Errorf("store key %q is an unkeyed hash of %q", key, id)
				}
				for _, k := range []Key{{Scope: scope, ID: id}, {Scope: scope, ID: id, Factor: "app"}} {
					if strings.HasPrefix(key, other.n.storeKey(k)) {
						t.Errorf("store key %q recomputed without the HMAC key", key)
					}
				}
			}
		}
	}
	// With the key, the records are found again (the test above can fail).
	if _, ok := f.st.keys[f.reg.n.storeKey(accountKeys[0])+recStreak]; !ok {
		t.Fatal("the account's streak is not where the keyed name says")
	}
}
