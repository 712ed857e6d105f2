// Package ttlcache is a small bounded cache of values that expire, for the
// chat adapters' user profiles: a conversation then costs one profile
// lookup on the platform's API, not one per turn.
package ttlcache

import (
	"sync"
	"time"
)

// Cache maps keys to values for TTL. It is bounded: when it holds Max
// entries, the next Put clears it (a profile is cheap to look up again,
// and clearing keeps the cost of a flood of distinct users flat).
type Cache[V any] struct {
	mu  sync.Mutex
	m   map[string]entry[V]
	ttl time.Duration
	max int
	now func() time.Time
}

type entry[V any] struct {
	v       V
	expires time.Time
}

// New returns a cache of at most max entries living ttl each; now is the
// clock (time.Now when nil).
func New[V any](ttl time.Duration, max int, now func() time.Time) *Cache[V] {
	if now == nil {
		now = time.Now
	}
	return &Cache[V]{m: map[string]entry[V]{}, ttl: ttl, max: max, now: now}
}

// Get returns the value of key unless it is missing or expired.
func (c *Cache[V]) Get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || c.now().After(e.expires) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Put stores v under key for the cache's TTL.
func (c *Cache[V]) Put(key string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[key] = entry[V]{v: v, expires: c.now().Add(c.ttl)}
}

// Update changes the value of a live entry in place, keeping its expiry;
// it does nothing when key is missing or expired.
func (c *Cache[V]) Update(key string, f func(*V)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[key]; ok && !c.now().After(e.expires) {
		f(&e.v)
		c.m[key] = e
	}
}
