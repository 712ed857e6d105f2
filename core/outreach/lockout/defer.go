package lockout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/store"
)

// Deferral bounds: a lockout that fell in quiet hours waits in the store
// (so a takeover keeps it) until the hours end, at most deferKeep, and at
// most maxDeferred lockouts wait per directory (beyond, the newest is not
// deferred and the overflow is logged and audited).
const (
	deferKeep   = 24 * time.Hour
	maxDeferred = 1000
)

// deferred is one lockout waiting for the end of quiet hours.
type deferred struct {
	User     directory.User `json:"u"`
	At       time.Time      `json:"at"`
	TimeZone string         `json:"tz,omitempty"`
}

func (w *Watcher) deferKey() string { return "out:deferred:" + w.o.Directory }

// deferLockout keeps l for delivery after quiet hours; false when the
// list is full or the store failed.
func (w *Watcher) deferLockout(ctx context.Context, l directory.Lockout, tz string) bool {
	err := w.updateDeferred(ctx, func(ds []deferred) ([]deferred, error) {
		if len(ds) >= maxDeferred {
			return nil, errors.New("deferred list full")
		}
		return append(ds, deferred{User: l.User, At: l.At, TimeZone: tz}), nil
	})
	if err != nil {
		w.o.Log.Warn("lockout outreach: not deferred past quiet hours", "directory", w.o.Directory, "err", err)
		return false
	}
	return true
}

// redeliver handles the deferred lockouts whose quiet hours have ended
// (each goes through every check again: still locked, not held, rate).
// Too old ones are dropped.
func (w *Watcher) redeliver(ctx context.Context, now time.Time) int {
	var due []deferred
	err := w.updateDeferred(ctx, func(ds []deferred) ([]deferred, error) {
		due = due[:0]
		var keep []deferred
		for _, d := range ds {
			switch {
			case now.Sub(d.At) > deferKeep:
			case w.o.Quiet.In(now, d.TimeZone):
				keep = append(keep, d)
			default:
				due = append(due, d)
			}
		}
		return keep, nil
	})
	if err != nil {
		w.o.Log.Warn("lockout outreach: deferred list unreadable", "directory", w.o.Directory, "err", err)
		return 0
	}
	sent := 0
	for _, d := range due {
		if w.handle(ctx, directory.Lockout{User: d.User, At: d.At}, false) {
			sent++
		}
	}
	return sent
}

// updateDeferred applies fn to the deferred list with compare-and-swap.
func (w *Watcher) updateDeferred(ctx context.Context, fn func([]deferred) ([]deferred, error)) error {
	for range 8 {
		var ds []deferred
		var version uint64
		rec, err := w.o.Store.Get(ctx, w.deferKey())
		switch {
		case err == nil:
			version = rec.Version
			if err := json.Unmarshal(rec.Value, &ds); err != nil {
				ds = nil
			}
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		next, err := fn(ds)
		if err != nil {
			return err
		}
		if len(next) == 0 && version == 0 {
			return nil
		}
		b, err := json.Marshal(next)
		if err != nil {
			return err
		}
		_, err = w.o.Store.CompareAndSwap(ctx, w.deferKey(), version, b, deferKeep)
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("lockout: deferred list: %w", store.ErrConflict)
}
