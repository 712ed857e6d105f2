// Package lease elects one holder of a named job among replicas sharing a
// store: exactly one replica runs each lockout watcher (and each expiry
// reminder sweep), and another takes over within a few seconds when the
// holder dies.
//
// The contract is Lease (Acquire, Renew, Release with an owner token); Store
// implements it on any store.Store (memory, bbolt, Redis single, Sentinel or
// Cluster) with nothing but the store's atomic compare-and-swap: the lease is
// one key whose value is the owner token and whose TTL is the lease term. A
// renewal or release is a compare-and-swap on the version the owner read, so
// a holder that lost its lease (paused past the term, partitioned) can never
// extend or drop the lease a newer holder took. On Redis this is the same
// guarantee as SET NX PX plus a compare-and-renew script: the store's CAS is
// itself one server-side script.
//
// Run is the loop every consumer uses: it keeps trying to acquire, runs the
// job while it holds the lease, renews every term/3 and cancels the job's
// context as soon as a renewal fails or is lost.
package lease

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/resetbot/resetbot/core/store"
)

// Lease is a named, expiring, exclusive claim.
//
// Implementations are safe for concurrent use by many goroutines and, on a
// shared store, by many processes. owner is an opaque token unique to one
// holder (NewOwner). A false result is an answer (someone else holds it, or
// the caller no longer does), not an error; errors mean the store failed and
// wrap store.ErrUnavailable.
type Lease interface {
	// Acquire takes the lease named name for ttl when nobody holds it (or the
	// holder's term ran out). It returns true if owner now holds it; an owner
	// that already holds it renews it.
	Acquire(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	// Renew extends owner's lease by ttl from now. It returns false when owner
	// no longer holds it: the holder must stop the job at once.
	Renew(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	// Release gives the lease up so another replica can take it without
	// waiting for the term to end. Releasing a lease one does not hold is a
	// no-op.
	Release(ctx context.Context, name, owner string) error
}

// keyPrefix namespaces lease keys in the shared store.
const keyPrefix = "lease:"

// releasedTTL is how long a released marker lives; a released lease is
// free at once, the marker only keeps the key's version moving forward.
const releasedTTL = time.Second

// Store implements Lease on a store.Store.
type Store struct {
	st store.Store
}

var _ Lease = (*Store)(nil)

// New returns a Lease kept in st.
func New(st store.Store) *Store { return &Store{st: st} }

// NewOwner returns a random owner token (128 bits, hex) for one holder.
func NewOwner() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("lease: no randomness: %v", err))
	}
	return hex.EncodeToString(b[:])
}

// Acquire implements Lease.
func (s *Store) Acquire(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	if owner == "" || ttl <= 0 {
		return false, fmt.Errorf("lease: acquire %q: empty owner or non-positive term", name)
	}
	key := keyPrefix + name
	rec, err := s.st.Get(ctx, key)
	var expect uint64
	switch {
	case errors.Is(err, store.ErrNotFound):
		expect = 0
	case err != nil:
		return false, fmt.Errorf("lease: acquire %q: %w", name, err)
	case len(rec.Value) == 0 || string(rec.Value) == owner:
		// Released (empty marker) or already ours: take it over this version.
		expect = rec.Version
	default:
		return false, nil
	}
	return s.swap(ctx, key, expect, owner, ttl)
}

// Renew implements Lease.
func (s *Store) Renew(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	if owner == "" || ttl <= 0 {
		return false, fmt.Errorf("lease: renew %q: empty owner or non-positive term", name)
	}
	key := keyPrefix + name
	rec, err := s.st.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("lease: renew %q: %w", name, err)
	}
	if string(rec.Value) != owner {
		return false, nil
	}
	return s.swap(ctx, key, rec.Version, owner, ttl)
}

// Release implements Lease.
func (s *Store) Release(ctx context.Context, name, owner string) error {
	key := keyPrefix + name
	rec, err := s.st.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("lease: release %q: %w", name, err)
	}
	if string(rec.Value) != owner {
		return nil
	}
	_, err = s.st.CompareAndSwap(ctx, key, rec.Version, nil, releasedTTL)
	if err != nil && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("lease: release %q: %w", name, err)
	}
	return nil
}

func (s *Store) swap(ctx context.Context, key string, expect uint64, owner string, ttl time.Duration) (bool, error) {
	_, err := s.st.CompareAndSwap(ctx, key, expect, []byte(owner), ttl)
	switch {
	case errors.Is(err, store.ErrConflict):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("lease: %s: %w", key, err)
	}
	return true, nil
}
