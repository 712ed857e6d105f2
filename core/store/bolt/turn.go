package bolt

import (
	"context"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/resetbot/resetbot/core/store"
)

var _ store.Turns = (*Store)(nil)

// AcquireTurn implements store.Turns in one write transaction.
func (s *Store) AcquireTurn(ctx context.Context, k store.TurnKeys, lease time.Duration) (store.Acquisition, error) {
	var a store.Acquisition
	if err := store.CheckTurn(k, lease); err != nil {
		return a, err
	}
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		now := s.now()
		dlv, err := liveValue(tx, k.Delivery, now)
		if err != nil {
			return err
		}
		lk, err := liveValue(tx, k.Lock, now)
		if err != nil {
			return err
		}
		switch a.State = store.DecideAcquire(dlv, lk, k.Owner); a.State {
		case store.TurnDone:
			a.Outcome = dlv[1:]
			return nil
		case store.TurnRunning, store.TurnBusy:
			return nil
		}
		owner := []byte(k.Owner)
		if k.Delivery != "" {
			if err := overwrite(tx, k.Delivery, store.Marked(store.MarkPending, owner), lease, now); err != nil {
				return err
			}
		}
		if err := overwrite(tx, k.Lock, store.Marked(store.MarkLease, owner), lease, now); err != nil {
			return err
		}
		r, err := live(tx, k.Session, now)
		if err == nil {
			a.Session = store.Record{Value: r.value, Version: r.version}
		}
		if err == store.ErrNotFound {
			err = nil
		}
		return err
	})
	return a, err
}

// RenewTurn implements store.Turns.
func (s *Store) RenewTurn(ctx context.Context, k store.TurnKeys, lease time.Duration) error {
	if err := store.CheckTurn(k, lease); err != nil {
		return err
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		now := s.now()
		lk, err := liveValue(tx, k.Lock, now)
		if err != nil {
			return err
		}
		if !store.Owned(lk, store.MarkLease, k.Owner) {
			return store.ErrLeaseLost
		}
		if err := overwrite(tx, k.Lock, lk, lease, now); err != nil {
			return err
		}
		dlv, err := liveValue(tx, k.Delivery, now)
		if err != nil || !store.Owned(dlv, store.MarkPending, k.Owner) {
			return err
		}
		return overwrite(tx, k.Delivery, dlv, lease, now)
	})
}

// CommitTurn implements store.Turns in one write transaction.
func (s *Store) CommitTurn(ctx context.Context, k store.TurnKeys, c store.Commit) error {
	if err := store.CheckCommit(k, c); err != nil {
		return err
	}
	var conflict bool
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		now := s.now()
		lk, err := liveValue(tx, k.Lock, now)
		if err != nil {
			return err
		}
		var cur uint64
		if r, err := live(tx, k.Session, now); err == nil {
			cur = r.version
		} else if err != store.ErrNotFound {
			return err
		}
		switch store.DecideCommit(lk, k.Owner, cur, c) {
		case store.CommitRepeated:
			return nil
		case store.CommitLeaseLost:
			return store.ErrLeaseLost
		case store.CommitConflict:
			// Released in this transaction, reported after it commits.
			conflict = true
			if err := dropOwned(tx, k.Lock, store.MarkLease, k.Owner, now); err != nil {
				return err
			}
			return dropOwned(tx, k.Delivery, store.MarkPending, k.Owner, now)
		}
		if err := applySession(tx, k.Session, c, now); err != nil {
			return err
		}
		if k.Delivery != "" {
			if c.Outcome != nil {
				err = overwrite(tx, k.Delivery, store.Marked(store.MarkDone, c.Outcome), c.Keep, now)
			} else {
				err = dropOwned(tx, k.Delivery, store.MarkPending, k.Owner, now)
			}
			if err != nil {
				return err
			}
		}
		return overwrite(tx, k.Lock, store.Marked(store.MarkCommitted, []byte(k.Owner)), store.CommittedKeep, now)
	})
	if err == nil && conflict {
		return store.ErrConflict
	}
	return err
}

func applySession(tx *bbolt.Tx, key string, c store.Commit, now time.Time) error {
	switch c.Op {
	case store.SessionPut:
		return overwrite(tx, key, c.Value, c.TTL, now)
	case store.SessionDelete:
		old, err := current(tx, key)
		if err != nil || old.version == 0 {
			return err
		}
		return remove(tx, key, old)
	}
	return nil
}

// liveValue returns key's live value, nil when key is "" or has no live record.
func liveValue(tx *bbolt.Tx, key string, now time.Time) ([]byte, error) {
	if key == "" {
		return nil, nil
	}
	r, err := live(tx, key, now)
	if err == store.ErrNotFound {
		return nil, nil
	}
	return r.value, err
}

// overwrite writes value at key with the next version (1 over an expired record).
func overwrite(tx *bbolt.Tx, key string, value []byte, ttl time.Duration, now time.Time) error {
	old, err := current(tx, key)
	if err != nil {
		return err
	}
	ver := uint64(1)
	if old.version != 0 && !old.expired(now) {
		ver = old.version + 1
	}
	return put(tx, key, old, record{version: ver, expires: deadline(now, ttl), value: value})
}

// dropOwned deletes key when its live value is mark + owner.
func dropOwned(tx *bbolt.Tx, key string, mark byte, owner string, now time.Time) error {
	if key == "" {
		return nil
	}
	r, err := live(tx, key, now)
	if err == store.ErrNotFound || (err == nil && !store.Owned(r.value, mark, owner)) {
		return nil
	}
	if err != nil {
		return err
	}
	return remove(tx, key, r)
}
