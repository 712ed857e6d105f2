// Package lockout watches a directory for accounts locked after failed
// logons and reaches out to their owners: "your account was locked at
// 07:12 — was this you?" with Unlock and Not me.
//
// One Watcher serves one directory. It polls the directory's
// LockoutSource incrementally (AD by uSNChanged, OpenLDAP by the ppolicy
// lock time), keeps its cursor in the shared store, claims each lockout
// (account + lock time) once in the store so a DM goes out once even
// across restarts and replicas, and runs on one replica at a time under a
// lease (see outreach/lease; the app wires the Runner).
//
// What is never offered: an administrator's lock, a disabled or expired
// account, a protected account, an account that is no longer locked (the
// directory's Status is read again before every notice). What is never
// sent: a DM during a spray wave when PauseOnSpray is set, a DM in quiet
// hours, more than the per-user rate. Every decision is an audit event
// "outreach.lockout" with its outcome and reason.
package lockout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/resetbot/resetbot/core/alarm"
	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/outreach"
	"github.com/resetbot/resetbot/core/store"
)

// Defaults for zero Options fields.
const (
	DefaultInterval    = 30 * time.Second
	DefaultMaxAge      = 15 * time.Minute
	DefaultRatePerUser = 3
	DefaultRateWindow  = 24 * time.Hour
	DefaultNoticeTTL   = 24 * time.Hour
	// claimTTL is how long a lockout stays claimed: longer than any
	// overlap of the cursor or MaxAge, so a re-read never sends again.
	claimTTL = 7 * 24 * time.Hour
	// cursorTTL keeps a directory's cursor across a long outage.
	cursorTTL = 30 * 24 * time.Hour
)

// Options configure a Watcher.
type Options struct {
	// Directory is the configured directory name.
	Directory string
	// Source reads lockouts; Dir reads the account's Status before a notice.
	Source directory.LockoutSource
	Dir    directory.Directory
	// Interval between polls; MaxAge drops older lockouts (first read,
	// catch-up after an outage).
	Interval, MaxAge time.Duration
	// Bases and Groups filter the read (see directory.LockoutQuery).
	Bases, Groups []string
	// Messengers are tried in order; the first that resolves the user
	// gets the notice. Unmapped everywhere: skipped.
	Messengers []outreach.DirectMessenger
	// Store is the shared store (cursor, claims, rates, spray counts,
	// notices); Keys names identifiers in it.
	Store store.Store
	Keys  outreach.Keys
	// Audit receives one event per decision (the app's audit pipeline,
	// which also feeds the alarm detector and the metrics).
	Audit audit.Sink
	// Alarm receives spray alerts (the security destination).
	Alarm alarm.Notifier
	// RatePerUser notices per RateWindow per account.
	RatePerUser int
	RateWindow  time.Duration
	Quiet       Quiet
	Spray       Spray
	// Locale is the default language of notices.
	Locale string
	// NoticeTTL is how long a notice's buttons work.
	NoticeTTL time.Duration
	Log       *slog.Logger
	Clock     func() time.Time
	// Observe, when set, receives every poll's numbers (metrics).
	Observe func(PollStats)
}

// PollStats are one poll's numbers: the directory load and what came of it.
type PollStats struct {
	Directory string
	// Entries the directory returned, and how long the read took.
	Entries  int
	Duration time.Duration
	// Full is a non-incremental read.
	Full bool
	// Lockouts read, New of them not seen before, Sent notices.
	Lockouts, New, Sent int
	// Wave says a spray wave is in progress.
	Wave bool
}

// Watcher watches one directory.
type Watcher struct {
	o    Options
	once outreach.Once
}

// New returns a Watcher; it fails on missing parts.
func New(o Options) (*Watcher, error) {
	if o.Directory == "" || o.Source == nil || o.Dir == nil || o.Store == nil {
		return nil, errors.New("lockout: directory, source, status and store are required")
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.RatePerUser <= 0 {
		o.RatePerUser = DefaultRatePerUser
	}
	if o.RateWindow <= 0 {
		o.RateWindow = DefaultRateWindow
	}
	if o.NoticeTTL <= 0 {
		o.NoticeTTL = DefaultNoticeTTL
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Locale == "" {
		o.Locale = "en"
	}
	o.Spray = o.Spray.withDefaults()
	return &Watcher{o: o, once: outreach.Once{St: o.Store, Keys: o.Keys}}, nil
}

// LeaseName is the lease every replica's Runner uses for this watcher.
func (w *Watcher) LeaseName() string { return "watch:lockout:" + w.o.Directory }

// Run polls every Interval until ctx ends. Run it under a lease.Runner:
// the lease, not Run, makes it the only poller.
func (w *Watcher) Run(ctx context.Context) {
	t := time.NewTicker(w.o.Interval)
	defer t.Stop()
	for {
		if _, err := w.Poll(ctx); err != nil && ctx.Err() == nil {
			w.o.Log.Warn("lockout watcher: poll failed", "directory", w.o.Directory, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (w *Watcher) cursorKey() string { return "out:cursor:" + w.o.Directory }

// Poll reads new lockouts once and handles them.
func (w *Watcher) Poll(ctx context.Context) (PollStats, error) {
	st := PollStats{Directory: w.o.Directory}
	cursor := ""
	rec, err := w.o.Store.Get(ctx, w.cursorKey())
	switch {
	case err == nil:
		cursor = string(rec.Value)
	case !errors.Is(err, store.ErrNotFound):
		return st, fmt.Errorf("lockout: read cursor: %w", err)
	}
	now := w.o.Clock()
	start := time.Now()
	r, err := w.o.Source.Lockouts(ctx, directory.LockoutQuery{Cursor: cursor, Since: now.Add(-w.o.MaxAge),
		Bases: w.o.Bases, Groups: w.o.Groups})
	st.Duration = time.Since(start)
	if err != nil {
		return st, fmt.Errorf("lockout: read %s: %w", w.o.Directory, err)
	}
	st.Entries, st.Full, st.Lockouts = r.Entries, r.Full, len(r.Lockouts)
	fresh, err := w.claim(ctx, r.Lockouts)
	if err != nil {
		return st, err
	}
	st.New = len(fresh)
	paused := false
	if len(fresh) > 0 {
		st.Wave, paused = w.spray(ctx, fresh, now)
	}
	st.Sent += w.redeliver(ctx, now)
	for _, l := range fresh {
		if w.handle(ctx, l, paused) {
			st.Sent++
		}
	}
	if r.Cursor != "" && r.Cursor != cursor {
		if _, err := w.o.Store.Set(ctx, w.cursorKey(), []byte(r.Cursor), cursorTTL); err != nil {
			return st, fmt.Errorf("lockout: save cursor: %w", err)
		}
	}
	if w.o.Observe != nil {
		w.o.Observe(st)
	}
	return st, nil
}

// claim keeps the lockouts this replica is the first to see. An
// administrator's lock has no time; it is never offered, so it is only
// audited the first time (claimed by account).
func (w *Watcher) claim(ctx context.Context, ls []directory.Lockout) ([]directory.Lockout, error) {
	var fresh []directory.Lockout
	for _, l := range ls {
		l.User.Directory = w.o.Directory
		ok, err := w.once.Claim(ctx, "lockout", claimTTL, w.o.Directory, l.User.ID, l.At.UTC().Format(time.RFC3339))
		if err != nil {
			return fresh, err
		}
		if ok {
			fresh = append(fresh, l)
		}
	}
	return fresh, nil
}

// userKey is the audit actor of an account, as the flows write it.
func userKey(u directory.User) string { return u.Directory + ":" + u.ID }
