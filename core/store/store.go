// Package store is the contract for resetbot's state: sessions, one-time code
// challenges, attempt counters, delivery IDs already seen, TOTP steps already used
// and factor enrollments all live in a Store.
//
// The contract is deliberately a small versioned key-value store with TTLs,
// compare-and-swap, atomic take and counters: enough for every consumer to build
// its own narrow interface on, small enough that a memory map, an embedded bbolt
// file and Redis (single, Sentinel or Cluster) implement it identically. The
// conformance suite in storetest runs against every implementation.
//
// Keys are opaque strings; callers namespace them ("sess:", "code:", ...). No
// Store method touches more than one key. The Turns operations (turn.go) touch
// the three records of one conversation turn at once, so on Redis Cluster
// those keys must share a {hash tag}.
package store

import (
	"context"
	"errors"
	"time"
)

// Errors returned by every implementation. Backend failures are wrapped with
// ErrUnavailable so callers can fail closed without knowing the backend.
var (
	// ErrNotFound means the key does not exist or has expired.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict means a compare-and-swap lost: the record's version was not the expected one.
	ErrConflict = errors.New("store: version conflict")
	// ErrUnavailable wraps any failure of the backend itself (network, disk, timeout).
	ErrUnavailable = errors.New("store: unavailable")
)

// Record is a stored value with its version. Versions start at 1 and grow by one
// with every successful write of that key; a deleted or expired key starts again.
type Record struct {
	Value   []byte
	Version uint64
}

// Store is a versioned key-value store with per-key expiry.
//
// All methods are safe for concurrent use by many goroutines and, for shared
// backends, by many processes. A ttl of 0 means the key never expires (used only
// for enrollments); a negative ttl is invalid.
type Store interface {
	// Get returns the current record, or ErrNotFound.
	Get(ctx context.Context, key string) (Record, error)

	// CompareAndSwap writes value when the key's current version equals expect,
	// where expect 0 means "the key must not exist" (create). It returns the new
	// version, or ErrConflict when another writer got there first. The ttl
	// replaces any previous expiry.
	CompareAndSwap(ctx context.Context, key string, expect uint64, value []byte, ttl time.Duration) (uint64, error)

	// Set writes value unconditionally and returns the new version.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) (uint64, error)

	// Take atomically returns and deletes the record (single-use values), or ErrNotFound.
	Take(ctx context.Context, key string) (Record, error)

	// Delete removes the key. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error

	// Incr adds delta to the integer counter at key and returns the new value.
	// A missing key counts from 0 and gets the ttl (a fixed window); an existing
	// key keeps its expiry. Counters are separate from records written with Set
	// or CompareAndSwap: do not mix the two on one key.
	Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error)

	// TTL returns the time left before key expires, 0 for a key that never
	// expires, or ErrNotFound.
	TTL(ctx context.Context, key string) (time.Duration, error)
}

// Checker is implemented by stores that can verify their backend at startup
// (Redis PING, bbolt file open).
type Checker interface {
	Check(ctx context.Context) error
}
