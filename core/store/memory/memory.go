// Package memory is an in-process store.Store: a map guarded by a mutex.
//
// It is meant for tests, the demo and single-instance deployments that accept
// losing all state (sessions, codes, counters, enrollments) on restart; use the
// bolt store when enrollments must survive a restart and the redis store when
// more than one instance runs.
//
// Expired keys are invisible at once and removed lazily: every write checks
// whether the sweep interval has passed and, if so, removes every expired key
// in one pass, so memory stays bounded by the keys written within about one
// interval plus the live ones. An optional key limit (WithMaxKeys) turns a flood
// of new keys into errors instead of unbounded growth.
package memory

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/resetbot/resetbot/core/store"
)

// DefaultSweepInterval is how often writes sweep expired keys unless WithSweepInterval says otherwise.
const DefaultSweepInterval = time.Minute

// fullSweepGap limits how often a full store sweeps for room, so a store that is
// full of live keys does not scan the whole map on every refused write.
const fullSweepGap = time.Second

// errNotCounter is returned by Incr on a key that holds a record, not a counter.
var errNotCounter = errors.New("memory: key does not hold a counter")

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock used for expiry (default time.Now). Tests use it to
// move time without sleeping.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithMaxKeys bounds the number of keys. When the store holds max live keys, a
// write that would create a new key fails with an error wrapping
// store.ErrUnavailable, so callers fail closed as for any backend outage;
// writes to existing keys still succeed. max <= 0 means no limit (the default).
func WithMaxKeys(max int) Option { return func(s *Store) { s.maxKeys = max } }

// WithSweepInterval sets how often writes sweep expired keys (default
// DefaultSweepInterval). A shorter interval bounds memory tighter at the cost of
// more frequent full passes over the map.
func WithSweepInterval(d time.Duration) Option { return func(s *Store) { s.sweepEvery = d } }

// entry is one key's state. Counters are records whose value is a decimal integer.
type entry struct {
	value   []byte
	version uint64
	expires time.Time // zero: never
}

// Store is an in-memory store.Store. The zero value is not usable; call New.
type Store struct {
	now        func() time.Time
	maxKeys    int
	sweepEvery time.Duration

	mu        sync.RWMutex
	m         map[string]*entry
	lastSweep time.Time
}

var _ store.Store = (*Store)(nil)

// New returns an empty store.
func New(opts ...Option) *Store {
	s := &Store{now: time.Now, sweepEvery: DefaultSweepInterval, m: make(map[string]*entry)}
	for _, o := range opts {
		o(s)
	}
	s.lastSweep = s.now()
	return s
}

// Len returns the number of keys held, including expired ones not swept yet.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.m)
}

// Dump returns a copy of every key and value held, expired ones not swept
// yet included. Tests use it to sweep stored values for secrets
// (internal/bottest); it is not part of store.Store.
func (s *Store) Dump() map[string][]byte {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make(map[string][]byte, len(s.m))
	for k, e := range s.m {
		out[k] = append([]byte(nil), e.value...)
	}
	return out
}

// Check implements store.Checker; a memory store is always available.
func (s *Store) Check(ctx context.Context) error { return ctxErr(ctx) }

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, key string) (store.Record, error) {
	if err := ctxErr(ctx); err != nil {
		return store.Record{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	e := s.live(key, s.now())
	if e == nil {
		return store.Record{}, store.ErrNotFound
	}
	return store.Record{Value: clone(e.value), Version: e.version}, nil
}

// CompareAndSwap implements store.Store.
func (s *Store) CompareAndSwap(ctx context.Context, key string, expect uint64, value []byte, ttl time.Duration) (uint64, error) {
	if err := checkWrite(ctx, ttl); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	e := s.live(key, now)
	var cur uint64
	if e != nil {
		cur = e.version
	}
	if cur != expect {
		return 0, store.ErrConflict
	}
	return s.write(key, e, clone(value), ttl, now)
}

// Set implements store.Store.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) (uint64, error) {
	if err := checkWrite(ctx, ttl); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	return s.write(key, s.live(key, now), clone(value), ttl, now)
}

// Take implements store.Store.
func (s *Store) Take(ctx context.Context, key string) (store.Record, error) {
	if err := ctxErr(ctx); err != nil {
		return store.Record{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.live(key, s.now())
	if e == nil {
		return store.Record{}, store.ErrNotFound
	}
	delete(s.m, key)
	// The entry left the map, so its value can be handed out without a copy.
	return store.Record{Value: e.value, Version: e.version}, nil
}

// Delete implements store.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

// Incr implements store.Store.
func (s *Store) Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	if err := checkWrite(ctx, ttl); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	e := s.live(key, now)
	var n int64
	if e != nil {
		var err error
		if n, err = strconv.ParseInt(string(e.value), 10, 64); err != nil {
			return 0, errNotCounter
		}
		ttl = -1 // keep the existing expiry
	}
	if (delta > 0 && n > math.MaxInt64-delta) || (delta < 0 && n < math.MinInt64-delta) {
		return 0, errors.New("memory: counter overflow")
	}
	n += delta
	if _, err := s.write(key, e, strconv.AppendInt(nil, n, 10), ttl, now); err != nil {
		return 0, err
	}
	return n, nil
}

// TTL implements store.Store.
func (s *Store) TTL(ctx context.Context, key string) (time.Duration, error) {
	if err := ctxErr(ctx); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	now := s.now()
	e := s.live(key, now)
	switch {
	case e == nil:
		return 0, store.ErrNotFound
	case e.expires.IsZero():
		return 0, nil
	default:
		return e.expires.Sub(now), nil
	}
}

// live returns the unexpired entry for key or nil. Callers hold s.mu.
func (s *Store) live(key string, now time.Time) *entry {
	e := s.m[key]
	if e == nil || expired(e, now) {
		return nil
	}
	return e
}

// write stores value at key over the live entry e (nil: create). A negative ttl
// keeps e's expiry. value must already be owned by the store. Callers hold s.mu.
func (s *Store) write(key string, e *entry, value []byte, ttl time.Duration, now time.Time) (uint64, error) {
	s.maybeSweep(now)
	if e == nil {
		if s.maxKeys > 0 && len(s.m) >= s.maxKeys {
			if _, stale := s.m[key]; !stale && !s.sweepForRoom(now) {
				return 0, fmt.Errorf("%w: memory store is full (%d keys)", store.ErrUnavailable, s.maxKeys)
			}
		}
		e = &entry{}
		s.m[key] = e
	}
	e.value = value
	e.version++
	if ttl >= 0 {
		e.expires = time.Time{}
		if ttl > 0 {
			e.expires = now.Add(ttl)
		}
	}
	return e.version, nil
}

// maybeSweep removes expired keys when the sweep interval has passed. Each
// sweep is O(keys) but runs at most once per interval, so its cost is spread
// over all the writes in between.
func (s *Store) maybeSweep(now time.Time) {
	if now.Sub(s.lastSweep) >= s.sweepEvery {
		s.sweep(now)
	}
}

// sweepForRoom sweeps a full store, at most once per fullSweepGap, and reports
// whether there is room for one more key.
func (s *Store) sweepForRoom(now time.Time) bool {
	if now.Sub(s.lastSweep) >= fullSweepGap {
		s.sweep(now)
	}
	return len(s.m) < s.maxKeys
}

func (s *Store) sweep(now time.Time) {
	for k, e := range s.m {
		if expired(e, now) {
			delete(s.m, k)
		}
	}
	s.lastSweep = now
}

func expired(e *entry, now time.Time) bool {
	return !e.expires.IsZero() && !now.Before(e.expires)
}

func clone(b []byte) []byte {
	return append([]byte{}, b...)
}

func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return nil
}

func checkWrite(ctx context.Context, ttl time.Duration) error {
	if ttl < 0 {
		return errors.New("memory: negative ttl")
	}
	return ctxErr(ctx)
}
