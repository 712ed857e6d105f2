package alarm_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/alarm"
	"github.com/resetbot/resetbot/core/audit"
)

type catcher struct {
	mu     sync.Mutex
	alerts []alarm.Alert
}

func (c *catcher) Notify(_ context.Context, a alarm.Alert) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.alerts = append(c.alerts, a)
	return nil
}

func (c *catcher) rules() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := map[string]int{}
	for _, a := range c.alerts {
		m[a.Rule]++
	}
	return m
}

var t0 = time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)

// session plays one conversation: a start by identity, then the account.
func session(d *alarm.Detector, at time.Time, sess, identity, account string, extra ...audit.Event) {
	ctx := context.Background()
	_ = d.Write(ctx, audit.Event{Time: at, Name: "flow.start", Session: sess, Channel: "slack", Actor: identity, Ref: "R-" + sess})
	_ = d.Write(ctx, audit.Event{Time: at, Name: audit.NameTransition, Session: sess, Channel: "slack", Actor: account,
		From: "identify", To: "choose_factor", Ref: "R-" + sess})
	for _, e := range extra {
		e.Time, e.Session, e.Channel, e.Actor, e.Ref = at, sess, "slack", account, "R-"+sess
		_ = d.Write(ctx, e)
	}
}

func TestIdentityTryingSeveralAccountsFiresOnce(t *testing.T) {
	c := &catcher{}
	d := alarm.New(alarm.Thresholds{Window: time.Hour, AccountsPerIdentity: 3}, c, nil)
	for i := range 8 {
		session(d, t0.Add(time.Duration(i)*time.Minute), fmt.Sprint("s", i), "slack:U666", fmt.Sprint("user", i%5))
	}
	// The owner of one account, from their own identity, raises nothing.
	session(d, t0, "own", "slack:U1", "user1")
	session(d, t0.Add(time.Minute), "own2", "slack:U1", "user1")
	if got := c.rules(); got[alarm.RuleIdentityManyAccounts] != 1 || len(got) != 1 {
		t.Fatalf("alerts %v, want one identity_many_accounts", got)
	}
	a := c.alerts[0]
	if a.Subject != "slack:U666" || a.Count != 3 || len(a.Refs) != 3 || a.Refs[0] != "R-s0" {
		t.Errorf("alert %+v", a)
	}
	// After a quiet window a new incident opens and alerts again.
	later := t0.Add(3 * time.Hour)
	for i := range 3 {
		session(d, later.Add(time.Duration(i)*time.Minute), fmt.Sprint("t", i), "slack:U666", fmt.Sprint("other", i))
	}
	if got := c.rules()[alarm.RuleIdentityManyAccounts]; got != 2 {
		t.Errorf("after a quiet window: %d alerts, want 2", got)
	}
}

func TestFailuresAcrossAccountsFireOnce(t *testing.T) {
	c := &catcher{}
	d := alarm.New(alarm.Thresholds{Window: time.Hour, FailingAccounts: 5, AccountsPerIdentity: 100}, c, nil)
	fail := audit.Event{Name: audit.NameVerifyAttempt, Factor: "sms", Outcome: audit.OutcomeFailure}
	for i := range 4 {
		session(d, t0.Add(time.Duration(i)*time.Minute), fmt.Sprint("s", i), fmt.Sprint("slack:U", i), fmt.Sprint("user", i), fail, fail)
	}
	if n := len(c.rules()); n != 0 {
		t.Fatalf("fired below the threshold: %v", c.rules())
	}
	for i := 4; i < 20; i++ {
		session(d, t0.Add(time.Duration(i)*time.Minute), fmt.Sprint("s", i), fmt.Sprint("slack:U", i), fmt.Sprint("user", i), fail)
	}
	if got := c.rules(); got[alarm.RuleFailuresManyAccounts] != 1 || len(got) != 1 {
		t.Fatalf("alerts %v, want one failures_many_accounts", got)
	}
	// Failures spread more thinly than the window never alert.
	c2 := &catcher{}
	d2 := alarm.New(alarm.Thresholds{Window: time.Hour, FailingAccounts: 5}, c2, nil)
	for i := range 20 {
		session(d2, t0.Add(time.Duration(i)*20*time.Minute), fmt.Sprint("s", i), fmt.Sprint("slack:U", i), fmt.Sprint("user", i), fail)
	}
	if n := len(c2.rules()); n != 0 {
		t.Errorf("spread-out failures alerted: %v", c2.rules())
	}
}

func TestSingleEventRulesFireOncePerIncident(t *testing.T) {
	c := &catcher{}
	d := alarm.New(alarm.Thresholds{Window: time.Hour}, c, nil)
	for i := range 5 {
		at := t0.Add(time.Duration(i) * time.Minute)
		session(d, at, fmt.Sprint("s", i), "slack:U1", "user1",
			audit.Event{Name: "totp.replay", Factor: "totp", Outcome: audit.OutcomeDenied},
			audit.Event{Name: audit.NameRegulationDenied, Factor: "sms", Reason: "user_budget"},
			audit.Event{Name: audit.NameRegulationDenied, Factor: "sms", Reason: "global_budget"},
			audit.Event{Name: audit.NameRegulationDenied, Factor: "sms", Reason: "too_many_failures"},
			audit.Event{Name: alarm.NameNotMe})
	}
	want := map[string]int{alarm.RuleCodeReplay: 1, alarm.RuleSendBudget: 2, alarm.RuleNotMe: 1}
	got := c.rules()
	for r, n := range want {
		if got[r] != n {
			t.Errorf("%s: %d alerts, want %d (all: %v)", r, got[r], n, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("unexpected rules: %v", got)
	}
}

// TestBounded: a flood of identities does not grow the state past the cap.
func TestBounded(t *testing.T) {
	c := &catcher{}
	d := alarm.New(alarm.Thresholds{Window: time.Hour, MaxSubjects: 50, AccountsPerIdentity: 2}, c, nil)
	for i := range 5000 {
		session(d, t0, fmt.Sprint("s", i), fmt.Sprint("slack:U", i), fmt.Sprint("user", i))
	}
	if n := len(c.rules()); n != 0 {
		t.Errorf("alerts %v", c.rules())
	}
	if in, ss := d.Tracked(); in > 50 || ss > 50 {
		t.Errorf("tracking %d incidents and %d sessions, cap 50", in, ss)
	}
}

// A phone session is bound to its call: one number calling about a
// different account each time is one identity, named by the caller ID the
// start event carries, not one identity per call.
func TestOneCallerAcrossCallsFiresOnce(t *testing.T) {
	c := &catcher{}
	d := alarm.New(alarm.Thresholds{Window: time.Hour, AccountsPerIdentity: 3}, c, nil)
	ctx := context.Background()
	call := func(i int, caller, account string) {
		sess, at := fmt.Sprint("call", caller, i), t0.Add(time.Duration(i)*time.Minute)
		_ = d.Write(ctx, audit.Event{Time: at, Name: "flow.start", Session: sess, Channel: "voice",
			Actor: fmt.Sprint("voice:CA", caller, i), Fields: map[string]string{audit.FieldCaller: caller}})
		_ = d.Write(ctx, audit.Event{Time: at, Name: audit.NameTransition, Session: sess, Channel: "voice", Actor: account})
	}
	for i := range 4 {
		call(i, "+15550100", fmt.Sprint("user", i))
	}
	// Another number calling about its own account twice raises nothing.
	call(0, "+15550199", "user9")
	call(1, "+15550199", "user9")
	got := c.rules()
	if got[alarm.RuleIdentityManyAccounts] != 1 || len(got) != 1 {
		t.Fatalf("alerts %v, want one identity_many_accounts", got)
	}
	if a := c.alerts[0]; a.Subject != "voice:+15550100" || a.Count != 3 {
		t.Errorf("alert %+v, want subject voice:+15550100, count 3", a)
	}
}
