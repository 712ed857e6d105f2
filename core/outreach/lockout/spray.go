package lockout

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"time"

	"github.com/resetbot/resetbot/core/alarm"
	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/store"
)

// RuleSpray and RuleSpraySource are the alarm rules of a lockout wave.
const (
	RuleSpray       = alarm.RuleLockoutSpray
	RuleSpraySource = alarm.RuleLockoutSpraySource
)

// Spray configures spray detection: many accounts locked in a short
// window (or many from one source, where the directory says the source)
// is one wave, one alert, and optionally no DMs.
type Spray struct {
	// Accounts locked within Window that make a wave (10; 0 keeps the
	// default, a negative value turns detection off).
	Accounts int
	// Window is the counting window and how long a wave lasts after its
	// last lockout (10m).
	Window time.Duration
	// PerSource lockouts from one source within Window make a wave (5).
	// Neither AD nor OpenLDAP exposes the source over LDAP, so this rule
	// only acts when a LockoutSource fills Lockout.Source.
	PerSource int
	// Pause sends no DM for a lockout while its wave lasts
	// (pause_outreach_on_spray): the security team acts, not the users.
	Pause bool
}

func (s Spray) withDefaults() Spray {
	if s.Accounts == 0 {
		s.Accounts = 10
	}
	if s.Window <= 0 {
		s.Window = 10 * time.Minute
	}
	if s.PerSource <= 0 {
		s.PerSource = 5
	}
	return s
}

// spray counts fresh lockouts in the shared store (a takeover keeps the
// counts) and reports whether a wave is on and whether to pause DMs. The
// whole poll is counted before any DM goes out, so a wave read in one poll
// sends none; the first lockouts of a wave spread over several polls may
// already have had theirs.
func (w *Watcher) spray(ctx context.Context, fresh []directory.Lockout, now time.Time) (wave, pause bool) {
	s := w.o.Spray
	if s.Accounts < 0 {
		return false, false
	}
	var timed []directory.Lockout
	for _, l := range fresh {
		if !l.Admin {
			timed = append(timed, l)
		}
	}
	total, err := w.windowCount(ctx, "spray:"+w.o.Directory, len(timed), now)
	if err != nil {
		w.o.Log.Warn("lockout spray count failed", "err", err)
	}
	wave = w.wave(ctx, "wave:"+w.o.Directory, total >= int64(s.Accounts), RuleSpray, "*", total, timed, now)
	for src, ls := range bySource(timed) {
		n, err := w.windowCount(ctx, w.o.Keys.Name("spray-src", w.o.Directory, src), len(ls), now)
		if err != nil {
			w.o.Log.Warn("lockout spray count failed", "err", err)
		}
		if w.wave(ctx, w.o.Keys.Name("wave-src", w.o.Directory, src), n >= int64(s.PerSource), RuleSpraySource, "source", n, ls, now) {
			wave = true
		}
	}
	return wave, wave && s.Pause
}

// windowCount adds n to this window's counter and returns it plus the
// previous window's (a sliding approximation of "within Window").
func (w *Watcher) windowCount(ctx context.Context, name string, n int, now time.Time) (int64, error) {
	win := w.o.Spray.Window
	b := now.Truncate(win).Unix()
	key := func(b int64) string { return "out:" + name + ":" + strconv.FormatInt(b, 10) }
	cur, err := w.o.Store.Incr(ctx, key(b), int64(n), 2*win)
	if err != nil {
		return 0, err
	}
	prev, err := w.o.Store.Incr(ctx, key(b-int64(win/time.Second)), 0, 2*win)
	if err != nil {
		return cur, err
	}
	return cur + prev, nil
}

// wave keeps the wave record named key: it opens (and alerts once) when
// reached is true, and is extended by every lockout while it lasts. It
// reports whether a wave is on.
func (w *Watcher) wave(ctx context.Context, key string, reached bool, rule, subject string, count int64,
	ls []directory.Lockout, now time.Time) bool {
	if len(ls) == 0 {
		return false
	}
	key = "out:" + key
	rec, err := w.o.Store.Get(ctx, key)
	switch {
	case err == nil:
		// A wave is on: every lockout in it extends it.
		_, _ = w.o.Store.CompareAndSwap(ctx, key, rec.Version, rec.Value, w.o.Spray.Window)
		return true
	case !errors.Is(err, store.ErrNotFound):
		w.o.Log.Warn("lockout spray wave read failed", "err", err)
		return reached
	case !reached:
		return false
	}
	if _, err := w.o.Store.CompareAndSwap(ctx, key, 0, []byte(now.UTC().Format(time.RFC3339)), w.o.Spray.Window); err != nil {
		// Another writer opened it first (or the store failed): the wave is
		// on, the alert is theirs.
		return true
	}
	w.alert(ctx, rule, subject, count, ls, now)
	return true
}

// alert raises the one alert of a wave and audits it.
func (w *Watcher) alert(ctx context.Context, rule, subject string, count int64, ls []directory.Lockout, now time.Time) {
	accounts := make([]string, 0, len(ls))
	for _, l := range ls {
		accounts = append(accounts, userKey(l.User))
	}
	sort.Strings(accounts)
	if len(accounts) > 10 {
		accounts = accounts[:10]
	}
	first := now
	for _, l := range ls {
		if !l.At.IsZero() && l.At.Before(first) {
			first = l.At
		}
	}
	a := alarm.Alert{Rule: rule, Subject: w.o.Directory + ":" + subject, Count: int(count), Accounts: accounts,
		Refs: []string{}, First: first, Time: now}
	w.o.Log.Warn("lockout spray", "directory", w.o.Directory, "rule", rule, "count", count)
	w.audit(ctx, audit.Event{Time: now, Name: "outreach.spray", Actor: a.Subject, Reason: rule,
		Outcome: audit.OutcomeDenied, Fields: map[string]string{"count": strconv.FormatInt(count, 10),
			"directory": w.o.Directory, "pause": strconv.FormatBool(w.o.Spray.Pause)}})
	if w.o.Alarm != nil {
		_ = w.o.Alarm.Notify(ctx, a)
	}
}

func bySource(ls []directory.Lockout) map[string][]directory.Lockout {
	m := map[string][]directory.Lockout{}
	for _, l := range ls {
		if l.Source != "" {
			m[l.Source] = append(m[l.Source], l)
		}
	}
	return m
}
