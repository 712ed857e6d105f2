package fanout

import (
	"context"
	"errors"
	"time"

	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store"
)

// Run retries the outbox every interval (DefaultSweep when 0) until ctx ends.
// One worker per replica; replicas share the store and never push the same
// item at the same time (claims are compare-and-swap on the item).
func (f *Fanout) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultSweep
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := f.Sweep(ctx); err != nil && ctx.Err() == nil {
				f.log.Warn("fan-out sweep failed", "err", err)
			}
		}
	}
}

// Sweep handles the due items of the outbox (at most sweepBatch), one at a
// time, and returns how many it pushed successfully.
func (f *Fanout) Sweep(ctx context.Context) (int, error) {
	es, _, err := f.out.readIndex(ctx)
	if err != nil {
		return 0, err
	}
	done := 0
	for i, e := range es {
		if i >= sweepBatch || ctx.Err() != nil {
			break
		}
		ok, err := f.retry(ctx, e)
		if errors.Is(err, store.ErrConflict) {
			continue // another replica took the item over; it is theirs now
		}
		if err != nil {
			return done, err
		}
		if ok {
			done++
		}
	}
	return done, nil
}

// retry claims one item and pushes it, or reports it failed when its window
// closed (or it expired from the store).
func (f *Fanout) retry(ctx context.Context, e entry) (bool, error) {
	ent, known := f.byName[e.Target]
	lease := DefaultTimeout
	if known {
		lease = ent.Timeout
	}
	it, ver, st, err := f.out.claim(ctx, e.ID, f.owner, lease+5*time.Second)
	if err != nil || st == claimBusy {
		return false, err
	}
	now := f.out.now()
	if st == claimGone || !known || it.Deadline <= now.Unix() {
		// Window closed (or the item already expired from the store, or
		// the target was removed from the configuration): report once.
		return false, f.giveUp(ctx, e, "expired")
	}
	pw := secret.New(it.Password)
	it.Password = ""
	lat, perr := f.attempt(ctx, ent, Request{Ref: it.Ref, User: it.User, Password: pw})
	it.Attempts++
	f.record(ctx, it.Ref, it.User, it.Target, it.Attempts+1, lat, perr)
	if perr == nil {
		// Index first: if this replica dies before the delete, the
		// sealed item merely expires; it is never reported failed.
		if _, err := f.out.remove(ctx, e.ID); err != nil {
			return false, err
		}
		return true, f.out.st.Delete(ctx, itemPrefix+e.ID)
	}
	if errors.Is(perr, ErrPermanent) {
		return false, f.giveUp(ctx, e, "permanent")
	}
	it.Password = pw.Reveal()
	it.Owner, it.ClaimUntil = "", 0
	it.NextAt = now.Add(backoff(it.Attempts)).Unix()
	_, err = f.out.put(ctx, it, ver)
	return false, err
}

// giveUp removes the item and, if this replica removed its index entry,
// reports it failed: exactly one report per item.
func (f *Fanout) giveUp(ctx context.Context, e entry, reason string) error {
	won, err := f.out.remove(ctx, e.ID)
	if err != nil {
		return err
	}
	if err := f.out.st.Delete(ctx, itemPrefix+e.ID); err != nil {
		return err
	}
	if won {
		label := e.Target
		if ent, ok := f.byName[e.Target]; ok {
			label = ent.Target.Label()
		}
		f.fail(ctx, Failure{Ref: e.Ref, Locale: e.Locale, User: e.User, Target: e.Target, Label: label, Reason: reason})
	}
	return nil
}

// backoff doubles from firstRetry up to maxBackoff.
func backoff(attempts int) time.Duration {
	d := firstRetry
	for i := 1; i < attempts && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}
