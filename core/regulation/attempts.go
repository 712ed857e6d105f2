package regulation

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/resetbot/resetbot/core/store"
)

// Store is the part of store.Store the regulator uses; every store.Store
// implementation satisfies it. Every count is an Incr, atomic on every
// backend (memory, bbolt, Redis).
type Store interface {
	Get(ctx context.Context, key string) (store.Record, error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) (uint64, error)
	Delete(ctx context.Context, key string) error
	Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error)
	TTL(ctx context.Context, key string) (time.Duration, error)
}

var _ Store = store.Store(nil)

// Records of one key, under its storeKey prefix:
//
//	:a:<window>  attempts taken in the fixed window (the gate)
//	:f:<window>  failures in the window (identity keys: the delay)
//	:c           consecutive failures (bans, the NIST ceiling)
//	:l           bans started recently (the ladder rung)
//	:b           ban in force: "<until unix ns>" or "<until>:cap"
//	:n           owner notices sent recently
const (
	recAttempts = ":a:"
	recFailures = ":f:"
	recStreak   = ":c"
	recLevel    = ":l"
	recBan      = ":b"
	recNotice   = ":n"
)

// window returns the fixed window at now: its suffix, its end and the TTL of
// its counters (they outlive it slightly, so clock skew between replicas
// cannot reopen it early).
func (r *Regulator) window(now time.Time) (string, time.Time, time.Duration) {
	idx := now.UnixNano() / int64(r.l.Window)
	end := time.Unix(0, (idx+1)*int64(r.l.Window))
	return strconv.FormatInt(idx, 10), end, end.Sub(now) + time.Minute
}

func (r *Regulator) limit(k Key) int64 {
	if k.Account() {
		return int64(r.l.AccountMaxFailures)
	}
	return int64(r.l.MaxFailures)
}

// Attempt counts one verification attempt on every key and then says whether
// it may be checked: the count is taken before anything is looked at, so
// concurrent attempts can never check more than the limit between them.
// Call it right before checking an answer, then Fail or Succeed. A refusal
// is a ban in force (ReasonBanned, ReasonHardCap) or a window whose attempts
// are all taken (ReasonTooManyAttempts); a refused attempt gives its counts
// back, so a ban on one key (the attacker's identity) costs the others (the
// account) nothing. err is a store failure: refuse.
func (r *Regulator) Attempt(ctx context.Context, keys ...Key) (Decision, error) {
	if err := checkKeys(keys); err != nil {
		return Decision{}, err
	}
	now := r.now()
	if d, err := r.banned(ctx, keys, now); err != nil || !d.Allowed {
		return d, err
	}
	win, end, ttl := r.window(now)
	var taken []string
	for _, k := range keys {
		name := r.n.storeKey(k) + recAttempts + win
		n, err := r.st.Incr(ctx, name, 1, ttl)
		if err != nil {
			return Decision{}, errors.Join(fmt.Errorf("regulation: count %s attempt: %w", k.Scope, err), r.giveBack(ctx, taken, ttl))
		}
		taken = append(taken, name)
		if n > r.limit(k) {
			if err := r.giveBack(ctx, taken, ttl); err != nil {
				return Decision{}, err
			}
			return Decision{Reason: ReasonTooManyAttempts, Key: k, RetryAfter: end.Sub(now), Until: end}, nil
		}
	}
	return Decision{Allowed: true}, nil
}

// Check says whether a ban is in force on any of keys, counting nothing (for
// refusing early, e.g. before a login lookup). err is a store failure.
func (r *Regulator) Check(ctx context.Context, keys ...Key) (Decision, error) {
	if err := checkKeys(keys); err != nil {
		return Decision{}, err
	}
	return r.banned(ctx, keys, r.now())
}

// Fail records that the attempt counted by Attempt failed. Every
// AccountMaxFailures (account keys) or MaxFailures (identity keys)
// consecutive failures start a ban on that key, each longer than the last
// (Limits.Bans); MaxConsecutive consecutive failures pause it until the
// consecutive count is forgotten (NIST 800-63B). A ban started here is
// returned as a refusal (ReasonTooManyFailures or ReasonHardCap) with
// Started set when it is on an account key: the moment to warn the owner.
// Delay comes from the identity keys' failures in the window only.
// err is a store failure.
func (r *Regulator) Fail(ctx context.Context, keys ...Key) (Decision, error) {
	if err := checkKeys(keys); err != nil {
		return Decision{}, err
	}
	now := r.now()
	win, _, ttl := r.window(now)
	out := Decision{Allowed: true}
	started := false
	for _, k := range keys {
		d, err := r.fail(ctx, k, now, win, ttl)
		if err != nil {
			return Decision{}, err
		}
		started = started || (d.Started && k.Account())
		out = combine(out, d)
	}
	out.Started = started
	return out, nil
}

// fail records one failure on k.
func (r *Regulator) fail(ctx context.Context, k Key, now time.Time, win string, ttl time.Duration) (Decision, error) {
	p := r.n.storeKey(k)
	f, err := r.st.Incr(ctx, p+recFailures+win, 1, ttl)
	if err != nil {
		return Decision{}, fmt.Errorf("regulation: count %s failure: %w", k.Scope, err)
	}
	c, err := r.st.Incr(ctx, p+recStreak, 1, r.l.ConsecutiveTTL)
	if err != nil {
		return Decision{}, fmt.Errorf("regulation: count %s streak: %w", k.Scope, err)
	}
	d := Decision{Allowed: true}
	if !k.Account() {
		d.Delay = r.l.delay(int(f))
	}
	// Each value of an Incr is seen by exactly one caller, so exactly one
	// failure starts each ban, however many run at once.
	var ban time.Duration
	switch {
	case c >= int64(r.l.MaxConsecutive):
		// The NIST ceiling: paused until the streak itself is forgotten, so
		// no more than MaxConsecutive failures fit in ConsecutiveTTL.
		left, err := r.st.TTL(ctx, p+recStreak)
		if err != nil {
			return Decision{}, fmt.Errorf("regulation: read %s streak: %w", k.Scope, err)
		}
		ban, d.Reason = max(left, time.Minute), ReasonHardCap
	case c%r.limit(k) == 0:
		level, err := r.st.Incr(ctx, p+recLevel, 1, r.l.LevelTTL)
		if err != nil {
			return Decision{}, fmt.Errorf("regulation: count %s bans: %w", k.Scope, err)
		}
		ban, d.Reason = r.l.ban(int(level)), ReasonTooManyFailures
	default:
		return d, nil
	}
	until := now.Add(ban)
	v := strconv.FormatInt(until.UnixNano(), 10)
	if d.Reason == ReasonHardCap {
		v += ":cap"
	}
	if _, err := r.st.Set(ctx, p+recBan, []byte(v), ban+time.Minute); err != nil {
		return Decision{}, fmt.Errorf("regulation: ban %s key: %w", k.Scope, err)
	}
	d.Allowed, d.Key, d.RetryAfter, d.Until, d.Started = false, k, ban, until, true
	return d, nil
}

// Succeed records that the attempt counted by Attempt succeeded: the attempt
// is given back and the keys' consecutive counts end. Pass only the keys of
// the factor that succeeded: the counts of other factors are kept, so
// holding one factor (a swapped SIM) buys no guesses at another. Bans in
// force and the window's failures (the delay) are kept. err is a store
// failure.
func (r *Regulator) Succeed(ctx context.Context, keys ...Key) error {
	if err := checkKeys(keys); err != nil {
		return err
	}
	win, _, ttl := r.window(r.now())
	for _, k := range keys {
		p := r.n.storeKey(k)
		n, err := r.st.Incr(ctx, p+recAttempts+win, -1, ttl)
		if err == nil && n < 0 {
			// The attempt was counted in the window before: nothing to give.
			_, err = r.st.Incr(ctx, p+recAttempts+win, 1, ttl)
		}
		if err != nil {
			return fmt.Errorf("regulation: return %s attempt: %w", k.Scope, err)
		}
		if err := r.st.Delete(ctx, p+recStreak); err != nil {
			return fmt.Errorf("regulation: end %s streak: %w", k.Scope, err)
		}
	}
	return nil
}

// Lift forgets every ban and count of keys: bans in force, the ladder rung,
// the consecutive count and the current window. It is the help-desk action
// ("lift the bot's pause"); callers audit it. Send budgets are not reset.
func (r *Regulator) Lift(ctx context.Context, keys ...Key) error {
	if err := checkKeys(keys); err != nil {
		return err
	}
	win, _, _ := r.window(r.now())
	for _, k := range keys {
		p := r.n.storeKey(k)
		for _, rec := range []string{recBan, recStreak, recLevel, recAttempts + win, recFailures + win} {
			if err := r.st.Delete(ctx, p+rec); err != nil {
				return fmt.Errorf("regulation: lift %s key: %w", k.Scope, err)
			}
		}
	}
	return nil
}

// Notice says whether the owner of account key k should be warned now that
// their account is being attacked: true at most once per Limits.NoticeEvery,
// so an attack cannot turn the warning itself into a flood.
func (r *Regulator) Notice(ctx context.Context, k Key) (bool, error) {
	if err := checkKeys([]Key{k}); err != nil {
		return false, err
	}
	n, err := r.st.Incr(ctx, r.n.storeKey(Key{Scope: k.Scope, ID: k.ID})+recNotice, 1, r.l.NoticeEvery)
	if err != nil {
		return false, fmt.Errorf("regulation: count notice: %w", err)
	}
	return n == 1, nil
}

// banned returns the refusal of the longest ban in force on keys, if any.
func (r *Regulator) banned(ctx context.Context, keys []Key, now time.Time) (Decision, error) {
	out := Decision{Allowed: true}
	for _, k := range keys {
		rec, err := r.st.Get(ctx, r.n.storeKey(k)+recBan)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return Decision{}, fmt.Errorf("regulation: read %s ban: %w", k.Scope, err)
		}
		until, cap, err := parseBan(rec.Value)
		if err != nil {
			return Decision{}, fmt.Errorf("regulation: corrupt %s ban (Lift clears it): %w", k.Scope, err)
		}
		if !until.After(now) {
			continue
		}
		d := Decision{Reason: ReasonBanned, Key: k, RetryAfter: until.Sub(now), Until: until}
		if cap {
			d.Reason = ReasonHardCap
		}
		out = combine(out, d)
	}
	return out, nil
}

func parseBan(v []byte) (time.Time, bool, error) {
	s, cap := string(v), false
	if n := len(s) - len(":cap"); n > 0 && s[n:] == ":cap" {
		s, cap = s[:n], true
	}
	ns, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, false, err
	}
	return time.Unix(0, ns), cap, nil
}

// combine merges the decision for one more key into acc: the longest
// refusal wins, an account key on a tie (the owner hears the truth about
// their account); the delay is the longest.
func combine(acc, d Decision) Decision {
	delay := max(acc.Delay, d.Delay)
	switch {
	case d.Allowed:
	case acc.Allowed, d.RetryAfter > acc.RetryAfter,
		d.RetryAfter == acc.RetryAfter && d.Key.Account() && !acc.Key.Account():
		acc = d
	}
	acc.Delay = delay
	return acc
}

// giveBack returns counts taken for an attempt that was refused.
func (r *Regulator) giveBack(ctx context.Context, names []string, ttl time.Duration) error {
	for _, name := range names {
		if _, err := r.st.Incr(ctx, name, -1, ttl); err != nil {
			return fmt.Errorf("regulation: return unused count: %w", err)
		}
	}
	return nil
}
