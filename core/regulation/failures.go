package regulation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/resetbot/resetbot/core/store"
)

// casAttempts bounds the compare-and-swap retries of one update; running out
// is reported as an error (fail closed).
const casAttempts = 32

// noWrite, returned by an update function, leaves the record as it is.
const noWrite time.Duration = -1

// state is one key's record. Times are Unix nanoseconds of the regulator's
// clock; the store's TTL only collects records that no longer matter.
type state struct {
	WindowStart int64 `json:"ws,omitempty"`
	WindowCount int   `json:"wc,omitempty"`
	Consecutive int   `json:"c,omitempty"`
	BannedUntil int64 `json:"bu,omitempty"`
	Locked      bool  `json:"l,omitempty"`
}

// Check says whether an attempt may be made for all of keys, without
// counting anything. Call it before asking for a code or answer, and Fail or
// Succeed after checking it. A refusal names the key with the strictest
// state: a hard-cap lock first, then the longest ban. Delay is the longest
// progressive delay among the keys. err is a store failure: refuse.
//
// Check then Fail is not one atomic step, so concurrent attempts on one key
// can all pass Check; per-challenge attempt limits (a code is burned after N
// wrong tries) close that gap.
func (r *Regulator) Check(ctx context.Context, keys ...Key) (Decision, error) {
	if err := checkKeys(keys); err != nil {
		return Decision{}, err
	}
	now := r.now()
	out := Decision{Allowed: true}
	for _, k := range keys {
		st, _, err := r.load(ctx, k)
		if err != nil {
			return Decision{}, err
		}
		out = combine(out, r.evaluate(k, st, now))
	}
	return out, nil
}

// Fail records one failure on every key and returns the resulting decision:
// refused with ReasonTooManyFailures when this failure started a ban, or
// ReasonHardCap when it reached MaxConsecutive. The consecutive count stops
// at MaxConsecutive, so no key ever records more. err is a store failure.
func (r *Regulator) Fail(ctx context.Context, keys ...Key) (Decision, error) {
	if err := checkKeys(keys); err != nil {
		return Decision{}, err
	}
	now := r.now()
	out := Decision{Allowed: true}
	for _, k := range keys {
		var started string
		st, err := r.update(ctx, k, func(st *state) time.Duration {
			started = r.fail(st, now)
			return r.ttl(st)
		})
		if err != nil {
			return Decision{}, err
		}
		d := r.evaluate(k, st, now)
		if started == ReasonTooManyFailures {
			d.Reason = ReasonTooManyFailures
		}
		out = combine(out, d)
	}
	return out, nil
}

// Succeed ends the consecutive-failure streak of every key: the consecutive
// count (and so the progressive delay) goes back to zero and a hard-cap lock
// is lifted. Failures in the current window and a running ban are kept: a
// success does not buy more guesses. Because Check refuses a locked key, in
// practice a hard-cap lock is lifted by a help-desk Reset, or by a success
// recorded on that key after verification through another key's path.
func (r *Regulator) Succeed(ctx context.Context, keys ...Key) error {
	if err := checkKeys(keys); err != nil {
		return err
	}
	for _, k := range keys {
		_, err := r.update(ctx, k, func(st *state) time.Duration {
			if st.Consecutive == 0 && !st.Locked {
				return noWrite
			}
			st.Consecutive, st.Locked = 0, false
			return r.ttl(st)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Reset forgets everything about keys: bans, window counts, consecutive
// counts and hard-cap locks. It is the help-desk action ("lift the bot's
// ban"); callers audit it. Send budgets are not reset.
func (r *Regulator) Reset(ctx context.Context, keys ...Key) error {
	if err := checkKeys(keys); err != nil {
		return err
	}
	for _, k := range keys {
		if err := r.st.Delete(ctx, k.storeKey()); err != nil {
			return fmt.Errorf("regulation: reset %s key: %w", k.Scope, err)
		}
	}
	return nil
}

// fail applies one failure at now and returns the reason it started, if any.
func (r *Regulator) fail(st *state, now time.Time) string {
	t := now.UnixNano()
	if st.WindowStart == 0 || t >= st.WindowStart+int64(r.l.Window) || t < st.WindowStart {
		st.WindowStart, st.WindowCount = t, 0
	}
	st.WindowCount++
	if st.Consecutive < r.l.MaxConsecutive {
		st.Consecutive++
	}
	switch {
	case st.Consecutive >= r.l.MaxConsecutive:
		if !st.Locked {
			st.Locked = true
			return ReasonHardCap
		}
	case st.WindowCount >= r.l.MaxFailures:
		st.BannedUntil = t + int64(r.l.BanTime)
		st.WindowStart, st.WindowCount = 0, 0
		return ReasonTooManyFailures
	}
	return ""
}

// ttl is how long the store keeps a record: forever while locked, else
// ConsecutiveTTL from now (which covers any window or ban, see withDefaults).
func (r *Regulator) ttl(st *state) time.Duration {
	if st.Locked {
		return 0
	}
	return r.l.ConsecutiveTTL
}

// evaluate turns one key's state into a decision at now.
func (r *Regulator) evaluate(k Key, st state, now time.Time) Decision {
	d := Decision{Allowed: true, Delay: r.l.delay(st.Consecutive)}
	switch t := now.UnixNano(); {
	case st.Locked || st.Consecutive >= r.l.MaxConsecutive:
		d.Allowed, d.Reason, d.Key = false, ReasonHardCap, k
	case st.BannedUntil > t:
		d.Allowed, d.Reason, d.Key = false, ReasonBanned, k
		d.RetryAfter = time.Duration(st.BannedUntil - t)
	}
	return d
}

// severity orders refusals for combine.
func severity(d Decision) int {
	switch {
	case d.Allowed:
		return 0
	case d.Reason == ReasonHardCap:
		return 3
	default:
		return 2
	}
}

// combine merges the decision for one more key into acc.
func combine(acc, d Decision) Decision {
	delay := max(acc.Delay, d.Delay)
	sa, sd := severity(acc), severity(d)
	if sd > sa || (sd == sa && sd > 0 && d.RetryAfter > acc.RetryAfter) {
		acc = d
	}
	acc.Delay = delay
	return acc
}

// load reads a key's state; a missing record is the zero state, version 0.
func (r *Regulator) load(ctx context.Context, k Key) (state, uint64, error) {
	rec, err := r.st.Get(ctx, k.storeKey())
	if errors.Is(err, store.ErrNotFound) {
		return state{}, 0, nil
	}
	if err != nil {
		return state{}, 0, fmt.Errorf("regulation: read %s key: %w", k.Scope, err)
	}
	var st state
	if err := json.Unmarshal(rec.Value, &st); err != nil {
		return state{}, 0, fmt.Errorf("regulation: corrupt %s record (Reset clears it): %w", k.Scope, err)
	}
	return st, rec.Version, nil
}

// update applies fn to a key's state with compare-and-swap, retrying when
// another writer got there first, and returns the state written. fn returns
// the record's new TTL, or noWrite, and may run more than once.
func (r *Regulator) update(ctx context.Context, k Key, fn func(*state) time.Duration) (state, error) {
	for range casAttempts {
		st, ver, err := r.load(ctx, k)
		if err != nil {
			return state{}, err
		}
		ttl := fn(&st)
		if ttl == noWrite {
			return st, nil
		}
		b, err := json.Marshal(st)
		if err != nil {
			return state{}, fmt.Errorf("regulation: encode: %w", err)
		}
		_, err = r.st.CompareAndSwap(ctx, k.storeKey(), ver, b, ttl)
		if err == nil {
			return st, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return state{}, fmt.Errorf("regulation: write %s key: %w", k.Scope, err)
		}
	}
	return state{}, fmt.Errorf("regulation: write %s key: %w after %d attempts", k.Scope, store.ErrConflict, casAttempts)
}
