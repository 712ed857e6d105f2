// Package alarm watches the audit stream for abuse and raises one alert per
// incident, not per event, to a security destination.
//
// The Detector is an audit.Sink: every decision the flows make is already an
// audit event, so the rules need no hook in the flows. The rules:
//
//   - identity_many_accounts: one chat identity or caller number reaches
//     several different accounts within the window;
//   - failures_many_accounts: failed factor checks on many different accounts
//     within the window (spraying);
//   - send_budget: a code send refused by a send budget (per destination,
//     per user or global);
//   - code_replay: an authenticator code presented twice;
//   - not_me: a user answered "Not me" to a notice about their account.
//
// An incident is one rule and one subject (an identity, an account, a budget
// or "all accounts"). It opens when the threshold is reached, raises one
// alert, and stays open while qualifying events keep coming within the
// window; after a quiet window a new incident can open.
//
// State is in memory, per replica, and bounded (MaxSubjects): a multi-replica
// deployment sees each replica's share of the events.
package alarm

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/resetbot/resetbot/core/audit"
)

// Rules.
const (
	RuleIdentityManyAccounts = "identity_many_accounts"
	RuleFailuresManyAccounts = "failures_many_accounts"
	RuleSendBudget           = "send_budget"
	RuleCodeReplay           = "code_replay"
	RuleNotMe                = "not_me"
	// RuleLockoutSpray and RuleLockoutSpraySource are raised by the lockout
	// watcher (core/outreach/lockout), not by the Detector: many accounts
	// locked at once, or from one source.
	RuleLockoutSpray       = "lockout_spray"
	RuleLockoutSpraySource = "lockout_spray_source"
)

// NameAlarm is the audit event of a raised alert; NameNotMe is the audit
// event a flow writes when a user answers "Not me".
const (
	NameAlarm = "abuse.alarm"
	NameNotMe = "assist.not_me"
)

// Thresholds configure the rules. Zero values take the defaults.
type Thresholds struct {
	// Window is how far back events count, and how long an incident stays
	// open after its last event (1h).
	Window time.Duration
	// AccountsPerIdentity is how many different accounts one identity may
	// reach before an alert (3).
	AccountsPerIdentity int
	// FailingAccounts is how many different accounts may fail a factor check
	// within the window before an alert (10).
	FailingAccounts int
	// MaxSubjects bounds the subjects tracked at once (10000).
	MaxSubjects int
}

func (t Thresholds) withDefaults() Thresholds {
	if t.Window <= 0 {
		t.Window = time.Hour
	}
	if t.AccountsPerIdentity <= 0 {
		t.AccountsPerIdentity = 3
	}
	if t.FailingAccounts <= 0 {
		t.FailingAccounts = 10
	}
	if t.MaxSubjects <= 0 {
		t.MaxSubjects = 10000
	}
	return t
}

// Alert is one incident, reported once.
type Alert struct {
	Rule string `json:"rule"`
	// Subject is who or what the incident is about: a channel identity
	// (slack:U123, voice:+1555...), an account, a budget, or "*".
	Subject string `json:"subject"`
	// Count is the number of distinct accounts (or events) that reached the
	// threshold.
	Count int `json:"count"`
	// Accounts are up to 10 of the accounts involved.
	Accounts []string `json:"accounts,omitempty"`
	// Refs are up to 10 reference IDs of the events involved, for the audit.
	Refs    []string  `json:"refs"`
	Channel string    `json:"channel,omitempty"`
	First   time.Time `json:"first"`
	Time    time.Time `json:"time"`
}

// Notifier delivers alerts. It must not block on the network (queue inside).
type Notifier interface {
	Notify(ctx context.Context, a Alert) error
}

// NotifierFunc adapts a function to Notifier.
type NotifierFunc func(ctx context.Context, a Alert) error

// Notify implements Notifier.
func (f NotifierFunc) Notify(ctx context.Context, a Alert) error { return f(ctx, a) }

// incident tracks one rule and subject.
type incident struct {
	first, last time.Time
	seen        map[string]time.Time // account (or event key) -> last seen
	refs        []string
	channel     string
	fired       bool
}

// Detector is an audit.Sink that raises alerts.
type Detector struct {
	t      Thresholds
	notify Notifier
	now    func() time.Time

	mu        sync.Mutex
	incidents map[string]*incident // rule + "\x00" + subject
	identity  map[string]sessionID // session hash -> channel identity
	writes    int
}

type sessionID struct {
	who  string
	seen time.Time
}

var _ audit.Sink = (*Detector)(nil)

// New returns a Detector delivering to n; now defaults to time.Now.
func New(t Thresholds, n Notifier, now func() time.Time) *Detector {
	if now == nil {
		now = time.Now
	}
	return &Detector{t: t.withDefaults(), notify: n, now: now,
		incidents: map[string]*incident{}, identity: map[string]sessionID{}}
}

// Write implements audit.Sink. It never fails: a lost alert must not fail
// the decision being audited.
func (d *Detector) Write(ctx context.Context, e audit.Event) error {
	now := e.Time
	if now.IsZero() {
		now = d.now()
	}
	var fired []Alert
	d.mu.Lock()
	d.gc(now)
	for _, h := range d.match(e, now) {
		if a, ok := d.observe(h, e, now); ok {
			fired = append(fired, a)
		}
	}
	d.mu.Unlock()
	for _, a := range fired {
		if d.notify != nil {
			_ = d.notify.Notify(ctx, a)
		}
	}
	return nil
}

// hit is one event counted towards an incident: key is the account (or a
// unique event key) counted as distinct; need the threshold.
type hit struct {
	rule, subject, key string
	need               int
}

// match returns the incidents e counts towards. Called with d.mu held.
func (d *Detector) match(e audit.Event, now time.Time) []hit {
	var hs []hit
	// Identities: a session's first event (flow.start) is written before any
	// account is known, so its actor is the channel identity.
	if e.Session != "" {
		if e.Name == "flow.start" && isIdentity(e.Actor, e.Channel) {
			if len(d.identity) < d.t.MaxSubjects {
				d.identity[e.Session] = sessionID{who: startedBy(e), seen: now}
			}
		} else if id, ok := d.identity[e.Session]; ok && e.Actor != "" && e.Actor != id.who && !isIdentity(e.Actor, e.Channel) {
			d.identity[e.Session] = sessionID{who: id.who, seen: now}
			hs = append(hs, hit{RuleIdentityManyAccounts, id.who, e.Actor, d.t.AccountsPerIdentity})
		}
	}
	switch e.Name {
	case audit.NameVerifyAttempt:
		if e.Outcome == audit.OutcomeFailure && e.Actor != "" && !isIdentity(e.Actor, e.Channel) {
			hs = append(hs, hit{RuleFailuresManyAccounts, "*", e.Actor, d.t.FailingAccounts})
		}
	case audit.NameRegulationDenied:
		if strings.HasSuffix(e.Reason, "_budget") {
			subject := e.Reason + ":" + e.Actor
			if e.Reason == "global_budget" {
				subject = e.Reason
			}
			hs = append(hs, hit{RuleSendBudget, subject, e.Actor, 1})
		}
	case "totp.replay":
		hs = append(hs, hit{RuleCodeReplay, e.Actor, e.Actor, 1})
	case NameNotMe:
		hs = append(hs, hit{RuleNotMe, e.Actor, e.Actor, 1})
	}
	return hs
}

// isIdentity reports whether actor is a channel identity ("slack:U1") rather
// than a directory account, as the engine writes it before identification.
// startedBy is who opened a conversation: the caller number when the start
// event carries one (a phone session is bound to one call, so the call's ID
// would make every call a new identity), else the channel identity.
func startedBy(e audit.Event) string {
	if c := e.Fields[audit.FieldCaller]; c != "" {
		return e.Channel + ":" + c
	}
	return e.Actor
}

func isIdentity(actor, channel string) bool {
	return channel != "" && strings.HasPrefix(actor, channel+":")
}

// observe counts h and returns the alert when it opens an incident. Called
// with d.mu held.
func (d *Detector) observe(h hit, e audit.Event, now time.Time) (Alert, bool) {
	k := h.rule + "\x00" + h.subject
	d.closeQuiet(k, now)
	in := d.incidents[k]
	if in == nil {
		if len(d.incidents) >= d.t.MaxSubjects {
			return Alert{}, false
		}
		in = &incident{first: now, seen: map[string]time.Time{}}
		d.incidents[k] = in
	}
	in.last = now
	in.channel = e.Channel
	if len(in.seen) < 1000 {
		in.seen[h.key] = now
	}
	if e.Ref != "" && len(in.refs) < 10 && !contains(in.refs, e.Ref) {
		in.refs = append(in.refs, e.Ref)
	}
	for a, t := range in.seen {
		if now.Sub(t) > d.t.Window {
			delete(in.seen, a)
		}
	}
	if in.fired || len(in.seen) < h.need {
		return Alert{}, false
	}
	in.fired = true
	accounts := make([]string, 0, len(in.seen))
	for a := range in.seen {
		accounts = append(accounts, a)
	}
	sort.Strings(accounts)
	if len(accounts) > 10 {
		accounts = accounts[:10]
	}
	return Alert{Rule: h.rule, Subject: h.subject, Count: len(in.seen), Accounts: accounts,
		Refs: append([]string(nil), in.refs...), Channel: in.channel, First: in.first, Time: now}, true
}

// gc closes incidents and forgets sessions quiet for a window; it runs every
// 256 writes. Called with d.mu held.
func (d *Detector) gc(now time.Time) {
	d.writes++
	if d.writes%256 != 0 && len(d.incidents) < d.t.MaxSubjects {
		return
	}
	d.sweep(now)
}

func (d *Detector) sweep(now time.Time) {
	for k, in := range d.incidents {
		if now.Sub(in.last) > d.t.Window {
			delete(d.incidents, k)
		}
	}
	for s, id := range d.identity {
		if now.Sub(id.seen) > d.t.Window {
			delete(d.identity, s)
		}
	}
}

// closeQuiet closes the incident of rule and subject if quiet for a window;
// used before counting so a new incident can open after a quiet period.
func (d *Detector) closeQuiet(k string, now time.Time) {
	if in, ok := d.incidents[k]; ok && now.Sub(in.last) > d.t.Window {
		delete(d.incidents, k)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// Tracked returns how many incidents and sessions the Detector holds now.
func (d *Detector) Tracked() (incidents, sessions int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.incidents), len(d.identity)
}
