// Package expiry reminds people that their password is about to expire —
// "your password expires Friday — change it now" — by a chat DM (the
// outreach.DirectMessenger of Slack or Teams) or, when the person is not
// reachable on chat, an e-mail to their work mailbox. The DM's button and
// the e-mail's link start the change flow (flows.FlowChange), which verifies
// the person as a reset would: the reminder is never a factor.
//
// A sweep lists the accounts whose password expires within the largest
// threshold (directory.ExpiryLister: a range search, not a full scan) and
// sends each at most one reminder per threshold per password: the dedupe
// claim in the shared store is keyed by the account, the password's change
// time and the threshold, so
//
//   - two replicas, a restart or a second sweep never send the same
//     reminder twice;
//   - a new password starts a new series;
//   - an account only gets the reminder of its current threshold (the
//     smallest one at or above its time left): a policy change that moves
//     many accounts from "30 days left" to "1 day left" sends each one
//     reminder, never the 14-, 7- and 1-day ones at once;
//   - a sweep sends at most MaxPerRun reminders, most urgent first; the
//     rest are neither claimed nor lost but left to the next sweep, and the
//     cap is logged, audited and counted.
//
// Reminders are not sent in quiet hours (in the person's time zone when the
// platform knows it); they go out at the first sweep after. Every reminder
// sent or failed is an audit event "outreach.expiry". Only one replica
// sweeps: the app runs Scheduler.Loop under an outreach/lease Runner.
package expiry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/core/outreach"
	"github.com/resetbot/resetbot/core/outreach/lockout"
	"github.com/resetbot/resetbot/core/store"
)

// Defaults for zero Options fields.
const (
	DefaultInterval  = time.Hour
	DefaultMaxPerRun = 500
	DefaultNoticeTTL = 24 * time.Hour
)

// DefaultThresholds are the days before expiry a reminder goes out.
var DefaultThresholds = []time.Duration{14 * 24 * time.Hour, 7 * 24 * time.Hour, 24 * time.Hour}

// Kind is the Notice kind of an expiry reminder.
const Kind = "expiry"

// EventName is the audit event of every reminder sent or failed, and of a
// sweep that reached its cap.
const EventName = "outreach.expiry"

// Reasons a listed account gets no reminder this sweep (Stats, audit).
const (
	ReasonSent       = "sent"
	ReasonDuplicate  = "duplicate"
	ReasonUnmapped   = "unmapped"
	ReasonQuietHours = "quiet_hours"
	ReasonCapped     = "capped"
	ReasonError      = "error"
)

// Renderer renders catalogued messages (core/messages.Catalog).
type Renderer interface {
	Text(locale, id string, voice bool, args map[string]string) string
}

// Options configure a Scheduler.
type Options struct {
	// Dir lists expiring passwords (normally the directory router).
	Dir directory.ExpiryLister
	// Thresholds are the times before expiry a reminder is due (any
	// order; DefaultThresholds when empty).
	Thresholds []time.Duration
	// Messengers are tried in order; the first that resolves the user gets
	// the DM.
	Messengers []outreach.DirectMessenger
	// Email, when set, sends the reminder to the account's work mailbox if
	// no messenger reaches the user. ChangeURL is the link it carries (the
	// bot's chat, e.g. a Slack app deep link); required with Email.
	Email     notify.Sender
	ChangeURL string
	Renderer  Renderer
	// Store is the shared store (claims, notices); Keys names identifiers in it.
	Store store.Store
	Keys  outreach.Keys
	Quiet lockout.Quiet
	// MaxPerRun caps the reminders of one sweep (DefaultMaxPerRun).
	MaxPerRun int
	// Interval between sweeps (DefaultInterval).
	Interval time.Duration
	// Locale is the default language of reminders.
	Locale string
	// NoticeTTL is how long a DM's button works (DefaultNoticeTTL).
	NoticeTTL time.Duration
	Audit     audit.Sink
	Log       *slog.Logger
	Clock     func() time.Time
	// Observe, when set, receives every sweep's numbers (metrics).
	Observe func(Stats)
}

// Stats are one sweep's numbers.
type Stats struct {
	// Listed is how many accounts the directory returned; Duration is how
	// long the listing took (the directory load).
	Listed   int
	Duration time.Duration
	// Reasons counts the outcome of every listed account by Reason*.
	Reasons map[string]int
	// CapReached says the sweep stopped at MaxPerRun.
	CapReached bool
}

// Scheduler sends expiry reminders.
type Scheduler struct {
	o    Options
	once outreach.Once
}

// New returns a Scheduler; it fails on missing parts or bad thresholds.
func New(o Options) (*Scheduler, error) {
	if o.Dir == nil || o.Store == nil || o.Renderer == nil {
		return nil, errors.New("expiry: directory, store and renderer are required")
	}
	if len(o.Messengers) == 0 && o.Email == nil {
		return nil, errors.New("expiry: no messenger and no e-mail: reminders could reach nobody")
	}
	if o.Email != nil && o.ChangeURL == "" {
		return nil, errors.New("expiry: e-mail reminders need a change URL")
	}
	if len(o.Thresholds) == 0 {
		o.Thresholds = DefaultThresholds
	}
	o.Thresholds = slices.Clone(o.Thresholds)
	slices.Sort(o.Thresholds)
	for i, t := range o.Thresholds {
		if t <= 0 || (i > 0 && t == o.Thresholds[i-1]) {
			return nil, fmt.Errorf("expiry: thresholds must be positive and distinct (got %v)", o.Thresholds)
		}
	}
	if o.MaxPerRun <= 0 {
		o.MaxPerRun = DefaultMaxPerRun
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.NoticeTTL <= 0 {
		o.NoticeTTL = DefaultNoticeTTL
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Locale == "" {
		o.Locale = "en"
	}
	return &Scheduler{o: o, once: outreach.Once{St: o.Store, Keys: o.Keys}}, nil
}

// Loop sweeps every Interval until ctx ends. Run it under a lease.Runner:
// only the replica holding the lease sweeps. A failed sweep is logged and
// retried at the next interval.
func (s *Scheduler) Loop(ctx context.Context) {
	t := time.NewTicker(s.o.Interval)
	defer t.Stop()
	for {
		if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.o.Log.Warn("expiry sweep failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sweep lists the accounts inside the largest threshold and sends the
// reminders that are due, most urgent first, up to MaxPerRun. A listing
// error from one directory of a router still sends the others' reminders
// and is returned.
func (s *Scheduler) Sweep(ctx context.Context) (Stats, error) {
	st := Stats{Reasons: map[string]int{}}
	start := s.o.Clock()
	list, lerr := s.o.Dir.ExpiringWithin(ctx, s.o.Thresholds[len(s.o.Thresholds)-1])
	st.Listed, st.Duration = len(list), s.o.Clock().Sub(start)
	slices.SortFunc(list, func(a, b directory.Expiry) int { return a.ExpiresAt.Compare(b.ExpiresAt) })
	sent := 0
	for i, e := range list {
		if ctx.Err() != nil {
			return st, ctx.Err()
		}
		if sent >= s.o.MaxPerRun {
			st.CapReached = true
			st.Reasons[ReasonCapped] += len(list) - i
			s.capped(ctx, len(list)-i)
			break
		}
		r := s.remind(ctx, e)
		st.Reasons[r]++
		if r == ReasonSent {
			sent++
		}
	}
	if s.o.Observe != nil {
		s.o.Observe(st)
	}
	return st, lerr
}

// capped reports that the sweep stopped at the cap: loudly, since a policy
// change or a wrong threshold may be behind it.
func (s *Scheduler) capped(ctx context.Context, left int) {
	s.o.Log.Warn("expiry reminders: per-sweep cap reached; the rest wait for the next sweep",
		"cap", s.o.MaxPerRun, "deferred", left)
	s.audit(ctx, audit.Event{Name: EventName, Outcome: audit.OutcomeDenied, Reason: ReasonCapped,
		Fields: map[string]string{"cap": fmt.Sprint(s.o.MaxPerRun), "deferred": fmt.Sprint(left)}})
}

// threshold returns the current threshold of an account with left time:
// the smallest threshold at or above it.
func (s *Scheduler) threshold(left time.Duration) (time.Duration, bool) {
	for _, t := range s.o.Thresholds {
		if left <= t {
			return t, true
		}
	}
	return 0, false
}

func (s *Scheduler) audit(ctx context.Context, e audit.Event) {
	if s.o.Audit != nil {
		if e.Time.IsZero() {
			e.Time = s.o.Clock()
		}
		_ = s.o.Audit.Write(ctx, e)
	}
}
