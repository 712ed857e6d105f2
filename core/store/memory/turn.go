package memory

import (
	"context"
	"time"

	"github.com/resetbot/resetbot/core/store"
)

var _ store.Turns = (*Store)(nil)

// AcquireTurn implements store.Turns under the store's mutex.
func (s *Store) AcquireTurn(ctx context.Context, k store.TurnKeys, lease time.Duration) (store.Acquisition, error) {
	if err := checkLease(ctx, k, lease); err != nil {
		return store.Acquisition{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	dlv := s.value(k.Delivery, now)
	switch st := store.DecideAcquire(dlv, s.value(k.Lock, now), k.Owner); st {
	case store.TurnDone:
		return store.Acquisition{State: st, Outcome: clone(dlv[1:])}, nil
	case store.TurnRunning, store.TurnBusy:
		return store.Acquisition{State: st}, nil
	}
	owner := []byte(k.Owner)
	if k.Delivery != "" {
		if _, err := s.write(k.Delivery, s.live(k.Delivery, now), store.Marked(store.MarkPending, owner), lease, now); err != nil {
			return store.Acquisition{}, err
		}
	}
	if _, err := s.write(k.Lock, s.live(k.Lock, now), store.Marked(store.MarkLease, owner), lease, now); err != nil {
		return store.Acquisition{}, err
	}
	a := store.Acquisition{State: store.TurnAcquired}
	if e := s.live(k.Session, now); e != nil {
		a.Session = store.Record{Value: clone(e.value), Version: e.version}
	}
	return a, nil
}

// RenewTurn implements store.Turns.
func (s *Store) RenewTurn(ctx context.Context, k store.TurnKeys, lease time.Duration) error {
	if err := checkLease(ctx, k, lease); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	e := s.live(k.Lock, now)
	if e == nil || !store.Owned(e.value, store.MarkLease, k.Owner) {
		return store.ErrLeaseLost
	}
	e.expires = now.Add(lease)
	if d := s.live(k.Delivery, now); d != nil && store.Owned(d.value, store.MarkPending, k.Owner) {
		d.expires = now.Add(lease)
	}
	return nil
}

// CommitTurn implements store.Turns under the store's mutex.
func (s *Store) CommitTurn(ctx context.Context, k store.TurnKeys, c store.Commit) error {
	if err := checkCommit(ctx, k, c); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var cur uint64
	if e := s.live(k.Session, now); e != nil {
		cur = e.version
	}
	switch store.DecideCommit(s.value(k.Lock, now), k.Owner, cur, c) {
	case store.CommitRepeated:
		return nil
	case store.CommitLeaseLost:
		return store.ErrLeaseLost
	case store.CommitConflict:
		s.dropOwned(k.Lock, store.MarkLease, k.Owner, now)
		s.dropOwned(k.Delivery, store.MarkPending, k.Owner, now)
		return store.ErrConflict
	}
	switch c.Op {
	case store.SessionPut:
		if _, err := s.write(k.Session, s.live(k.Session, now), clone(c.Value), c.TTL, now); err != nil {
			return err
		}
	case store.SessionDelete:
		delete(s.m, k.Session)
	}
	if k.Delivery != "" {
		if c.Outcome != nil {
			if _, err := s.write(k.Delivery, s.live(k.Delivery, now), store.Marked(store.MarkDone, c.Outcome), c.Keep, now); err != nil {
				return err
			}
		} else {
			s.dropOwned(k.Delivery, store.MarkPending, k.Owner, now)
		}
	}
	_, err := s.write(k.Lock, s.live(k.Lock, now), store.Marked(store.MarkCommitted, []byte(k.Owner)), store.CommittedKeep, now)
	return err
}

// value returns the live value at key, nil when missing. Callers hold s.mu.
func (s *Store) value(key string, now time.Time) []byte {
	if key == "" {
		return nil
	}
	if e := s.live(key, now); e != nil {
		return e.value
	}
	return nil
}

// dropOwned deletes key when it holds mark + owner. Callers hold s.mu.
func (s *Store) dropOwned(key string, mark byte, owner string, now time.Time) {
	if key != "" && store.Owned(s.value(key, now), mark, owner) {
		delete(s.m, key)
	}
}

func checkLease(ctx context.Context, k store.TurnKeys, lease time.Duration) error {
	if err := store.CheckTurn(k, lease); err != nil {
		return err
	}
	return ctxErr(ctx)
}

func checkCommit(ctx context.Context, k store.TurnKeys, c store.Commit) error {
	if err := store.CheckCommit(k, c); err != nil {
		return err
	}
	return ctxErr(ctx)
}
