package bolt

import (
	"context"
	"errors"
	"math"
	"strconv"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/resetbot/resetbot/core/store"
)

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, key string) (store.Record, error) {
	var rec store.Record
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		r, err := live(tx, key, s.now())
		if err != nil {
			return err
		}
		rec = store.Record{Value: r.value, Version: r.version}
		return nil
	})
	return rec, err
}

// CompareAndSwap implements store.Store.
func (s *Store) CompareAndSwap(ctx context.Context, key string, expect uint64, value []byte, ttl time.Duration) (uint64, error) {
	return s.write(ctx, key, value, ttl, func(cur uint64) error {
		if cur != expect {
			return store.ErrConflict
		}
		return nil
	})
}

// Set implements store.Store.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) (uint64, error) {
	return s.write(ctx, key, value, ttl, func(uint64) error { return nil })
}

// write stores value under key with the next version, after check accepts
// the current version (0 for a missing or expired key), in one transaction.
func (s *Store) write(ctx context.Context, key string, value []byte, ttl time.Duration, check func(cur uint64) error) (uint64, error) {
	if err := checkWrite(key, ttl); err != nil {
		return 0, err
	}
	var ver uint64
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		now := s.now()
		old, err := current(tx, key)
		if err != nil {
			return err
		}
		var cur uint64
		if !old.expired(now) {
			cur = old.version
		}
		if err := check(cur); err != nil {
			return err
		}
		ver = cur + 1
		return put(tx, key, old, record{version: ver, expires: deadline(now, ttl), value: value})
	})
	return ver, err
}

// Take implements store.Store.
func (s *Store) Take(ctx context.Context, key string) (store.Record, error) {
	var rec store.Record
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		r, err := live(tx, key, s.now())
		if err != nil {
			return err
		}
		rec = store.Record{Value: r.value, Version: r.version}
		return remove(tx, key, r)
	})
	return rec, err
}

// Delete implements store.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		old, err := current(tx, key)
		if err != nil || old.version == 0 {
			return err
		}
		return remove(tx, key, old)
	})
}

// Incr implements store.Store. The counter is a record whose value is the
// decimal number, so Get on a counter key shows it.
func (s *Store) Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	if err := checkWrite(key, ttl); err != nil {
		return 0, err
	}
	var n int64
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		now := s.now()
		old, err := current(tx, key)
		if err != nil {
			return err
		}
		next := record{version: 1, expires: deadline(now, ttl)}
		n = 0
		if old.version != 0 && !old.expired(now) {
			if n, err = strconv.ParseInt(string(old.value), 10, 64); err != nil {
				return errNotCounter
			}
			next.version, next.expires = old.version+1, old.expires
		}
		if (delta > 0 && n > math.MaxInt64-delta) || (delta < 0 && n < math.MinInt64-delta) {
			return errOverflow
		}
		n += delta
		next.value = strconv.AppendInt(nil, n, 10)
		return put(tx, key, old, next)
	})
	return n, err
}

// TTL implements store.Store.
func (s *Store) TTL(ctx context.Context, key string) (time.Duration, error) {
	var d time.Duration
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		now := s.now()
		r, err := live(tx, key, now)
		if err != nil {
			return err
		}
		if !r.expires.IsZero() {
			d = r.expires.Sub(now)
		}
		return nil
	})
	return d, err
}

// current returns key's stored record, expired or not; version 0 means none.
func current(tx *bbolt.Tx, key string) (record, error) {
	v := tx.Bucket(bucketRecords).Get([]byte(key))
	if v == nil {
		return record{}, nil
	}
	return decode(v)
}

// live returns key's unexpired record or store.ErrNotFound.
func live(tx *bbolt.Tx, key string, now time.Time) (record, error) {
	r, err := current(tx, key)
	if err != nil {
		return record{}, err
	}
	if r.version == 0 || r.expired(now) {
		return record{}, store.ErrNotFound
	}
	return r, nil
}

// put writes next over old (version 0: none) and moves the expiry index entry.
func put(tx *bbolt.Tx, key string, old, next record) error {
	exp := tx.Bucket(bucketExpiry)
	if old.version != 0 && !old.expires.IsZero() && !old.expires.Equal(next.expires) {
		if err := exp.Delete(expiryKey(old.expires, key)); err != nil {
			return err
		}
	}
	if !next.expires.IsZero() {
		if err := exp.Put(expiryKey(next.expires, key), nil); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketRecords).Put([]byte(key), encode(next))
}

// remove deletes key and its expiry index entry.
func remove(tx *bbolt.Tx, key string, old record) error {
	if !old.expires.IsZero() {
		if err := tx.Bucket(bucketExpiry).Delete(expiryKey(old.expires, key)); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketRecords).Delete([]byte(key))
}

func deadline(now time.Time, ttl time.Duration) time.Time {
	if ttl == 0 {
		return time.Time{}
	}
	return now.Add(ttl)
}

func checkWrite(key string, ttl time.Duration) error {
	switch {
	case ttl < 0:
		return errors.New("bolt: negative ttl")
	case key == "":
		return errEmptyKey
	}
	return nil
}
