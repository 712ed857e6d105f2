// Package bolt is a durable, embedded store.Store in one bbolt file, for a
// single resetbot instance whose factor enrollments must survive a restart.
//
// Every write is one bbolt transaction, fsynced before it returns, so a
// successful write is on disk. bbolt allows one writer at a time, which makes
// CompareAndSwap, Take and Incr atomic without extra locking; reads run in
// parallel. The file is locked for exclusive use: a second process opening it
// waits up to the open timeout and then fails.
//
// Each record carries its expiry. Expired records are invisible at once and
// deleted by a background sweep (stopped by Close) that walks a second bucket
// indexed by expiry time, so a sweep costs only the keys it removes.
package bolt

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/resetbot/resetbot/core/store"
)

// Defaults for Open.
const (
	DefaultSweepInterval = time.Minute
	DefaultOpenTimeout   = 2 * time.Second
	// sweepBatch bounds the records one sweep transaction deletes, so a large
	// backlog does not hold the single writer lock for long.
	sweepBatch = 1000
)

var (
	bucketRecords = []byte("records")
	bucketExpiry  = []byte("expiry")
)

// Option configures Open.
type Option func(*options)

type options struct {
	now         func() time.Time
	sweepEvery  time.Duration
	openTimeout time.Duration
}

// WithClock sets the clock used for expiry (default time.Now).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithSweepInterval sets how often the background sweep deletes expired
// records (default DefaultSweepInterval). d <= 0 disables the background
// sweep; Sweep can still be called directly.
func WithSweepInterval(d time.Duration) Option { return func(o *options) { o.sweepEvery = d } }

// WithOpenTimeout bounds how long Open waits for another process to release
// the file lock (default DefaultOpenTimeout).
func WithOpenTimeout(d time.Duration) Option { return func(o *options) { o.openTimeout = d } }

// Store is a store.Store backed by a bbolt file. Create it with Open and
// release it with Close.
type Store struct {
	db  *bbolt.DB
	now func() time.Time

	stop      chan struct{}
	done      sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

var (
	_ store.Store   = (*Store)(nil)
	_ store.Checker = (*Store)(nil)
)

// Open opens or creates the bbolt file at path (mode 0600: it holds
// enrollment data) and starts the background sweep.
func Open(path string, opts ...Option) (*Store, error) {
	o := options{now: time.Now, sweepEvery: DefaultSweepInterval, openTimeout: DefaultOpenTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: o.openTimeout})
	if err != nil {
		return nil, fmt.Errorf("%w: bolt: open %s: %w", store.ErrUnavailable, path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketRecords, bucketExpiry} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("%w: bolt: init %s: %w", store.ErrUnavailable, path, err)
	}
	s := &Store{db: db, now: o.now, stop: make(chan struct{})}
	if o.sweepEvery > 0 {
		s.done.Go(func() { s.sweepLoop(o.sweepEvery) })
	}
	return s, nil
}

// Close stops the background sweep and closes the file. It is safe to call
// more than once; later calls return the first result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		s.done.Wait()
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("%w: bolt: close: %w", store.ErrUnavailable, err)
		}
	})
	return s.closeErr
}

// Check implements store.Checker: it fails once the store is closed or the
// file is unreadable.
func (s *Store) Check(ctx context.Context) error {
	return s.view(ctx, func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketRecords) == nil || tx.Bucket(bucketExpiry) == nil {
			return errors.New("bolt: buckets missing")
		}
		return nil
	})
}

// Sweep deletes expired records now and returns how many it removed. The
// background sweep calls it; tests and tools may call it directly.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	total := 0
	for {
		n := 0
		err := s.update(ctx, func(tx *bbolt.Tx) error {
			var err error
			n, err = sweepTx(tx, s.now(), sweepBatch)
			return err
		})
		total += n
		if err != nil || n < sweepBatch {
			return total, err
		}
	}
}

func (s *Store) sweepLoop(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			// A failed sweep is retried on the next tick; reads already treat
			// expired records as missing, so nothing depends on it succeeding.
			_, _ = s.Sweep(context.Background())
		}
	}
}

// sweepTx deletes up to limit records whose expiry is at or before now.
func sweepTx(tx *bbolt.Tx, now time.Time, limit int) (int, error) {
	recs, exp := tx.Bucket(bucketRecords), tx.Bucket(bucketExpiry)
	var doomed [][]byte
	c := exp.Cursor()
	for k, _ := c.First(); k != nil && len(doomed) < limit; k, _ = c.Next() {
		if at, _ := splitExpiryKey(k); now.Before(at) {
			break
		}
		doomed = append(doomed, append([]byte{}, k...))
	}
	for _, k := range doomed {
		at, key := splitExpiryKey(k)
		// Delete the record only if it still carries this expiry: a rewrite
		// moves its index entry, but be defensive about stale entries.
		if v := recs.Get(key); v != nil {
			if r, err := decode(v); err == nil && r.expires.Equal(at) {
				if err := recs.Delete(key); err != nil {
					return 0, err
				}
			}
		}
		if err := exp.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(doomed), nil
}

// view runs fn in a read transaction, mapping backend failures to ErrUnavailable.
func (s *Store) view(ctx context.Context, fn func(*bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return mapErr(s.db.View(fn))
}

// update runs fn in a write transaction, mapping backend failures to ErrUnavailable.
func (s *Store) update(ctx context.Context, fn func(*bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return mapErr(s.db.Update(fn))
}

// Outcomes that fn may return and that pass through unwrapped.
var (
	errNotCounter = errors.New("bolt: key does not hold a counter")
	errOverflow   = errors.New("bolt: counter overflow")
	errEmptyKey   = errors.New("bolt: empty key")
	errCorrupt    = errors.New("bolt: corrupt record")
)

func mapErr(err error) error {
	switch {
	case err == nil,
		errors.Is(err, store.ErrNotFound),
		errors.Is(err, store.ErrConflict),
		errors.Is(err, errNotCounter),
		errors.Is(err, errOverflow),
		errors.Is(err, errEmptyKey):
		return err
	default:
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
}
