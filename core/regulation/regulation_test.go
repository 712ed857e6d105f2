package regulation

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/store/memory"
)

// clock is a manual test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// testKey is the HMAC key of the tests.
var testKey = []byte("0123456789abcdef0123456789abcdef")

type fixture struct {
	t     testing.TB
	reg   *Regulator
	clock *clock
	st    *recorder
}

func newFixture(t testing.TB, l Limits, s SendLimits) *fixture {
	t.Helper()
	c := newClock()
	rec := &recorder{Store: memory.New(memory.WithClock(c.Now)), keys: map[string]time.Duration{}, fail: map[string]bool{}}
	reg, err := New(rec, testKey, l, s, c.Now)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, reg: reg, clock: c, st: rec}
}

// must fails the test on a regulator error.
func (f *fixture) must(d Decision, err error) Decision {
	f.t.Helper()
	if err != nil {
		f.t.Fatalf("regulator error: %v", err)
	}
	return d
}

// try plays one wrong answer: Attempt, then Fail when allowed. It returns
// the refusal of Attempt, or Fail's decision.
func (f *fixture) try(keys ...Key) Decision {
	f.t.Helper()
	if d := f.must(f.reg.Attempt(ctx, keys...)); !d.Allowed {
		return d
	}
	return f.must(f.reg.Fail(ctx, keys...))
}

var ctx = context.Background()

var identityKeys = []Key{ChannelUser("slack:T01:U123"), Caller("+15555550100")}

var accountKeys = []Key{User("uid=alice,ou=people,dc=example,dc=org").For("app")}

// TestBanLadder: every MaxFailures (identity) or AccountMaxFailures
// (account) consecutive failures start a ban, each rung longer, the last
// repeating; every ban ends by itself.
func TestBanLadder(t *testing.T) {
	for _, k := range append(append([]Key{}, identityKeys...), accountKeys...) {
		t.Run(string(k.Scope), func(t *testing.T) {
			f := newFixture(t, Limits{}, SendLimits{})
			limit := DefaultMaxFailures
			if k.Account() {
				limit = DefaultAccountMaxFailures
			}
			for rung, want := range []time.Duration{15 * time.Minute, time.Hour, 24 * time.Hour, 24 * time.Hour} {
				for i := 1; i < limit; i++ {
					if d := f.try(k); !d.Allowed {
						t.Fatalf("rung %d failure %d refused: %+v", rung, i, d)
					}
				}
				d := f.try(k)
				if d.Allowed || d.Reason != ReasonTooManyFailures || d.RetryAfter != want || d.Key != k || d.Started != k.Account() {
					t.Fatalf("rung %d: last failure = %+v, want a ban of %v", rung, d, want)
				}
				f.clock.Advance(want - time.Second)
				d = f.must(f.reg.Attempt(ctx, k))
				if d.Allowed || d.Reason != ReasonBanned || d.RetryAfter != time.Second || !d.Until.Equal(f.clock.Now().Add(time.Second)) {
					t.Fatalf("rung %d: Attempt during ban = %+v", rung, d)
				}
				if d := f.must(f.reg.Check(ctx, k)); d.Reason != ReasonBanned {
					t.Fatalf("rung %d: Check during ban = %+v", rung, d)
				}
				f.clock.Advance(time.Second)
			}
			other := Key{Scope: k.Scope, ID: k.ID + "-other", Factor: k.Factor}
			if d := f.must(f.reg.Attempt(ctx, other)); !d.Allowed {
				t.Fatalf("another key of the scope refused: %+v", d)
			}
		})
	}
}

// TestSoftAccountHardIdentity: a stranger's identity is banned after 5
// failures while the account is not, and a banned identity's refused
// attempts take nothing from the account.
func TestSoftAccountHardIdentity(t *testing.T) {
	f := newFixture(t, Limits{}, SendLimits{})
	acct := User("uid=bob").For("app")
	stranger := Caller("+15555550666")
	for range DefaultMaxFailures {
		f.try(stranger, acct)
	}
	d := f.must(f.reg.Attempt(ctx, stranger, acct))
	if d.Allowed || d.Key != stranger {
		t.Fatalf("stranger's 6th attempt = %+v, want the caller banned", d)
	}
	for range 20 {
		f.must(f.reg.Attempt(ctx, stranger, acct))
	}
	owner := ChannelUser("teams:tenant:bob")
	for i := range DefaultAccountMaxFailures - DefaultMaxFailures {
		if d := f.must(f.reg.Attempt(ctx, owner, acct)); !d.Allowed {
			t.Fatalf("attempt %d of the owner refused: %+v (the stranger's refused attempts were counted)", i, d)
		}
		if err := f.reg.Succeed(ctx, owner, acct); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFactorsCountedApart: success on one factor does not clear another
// factor's consecutive count, so holding one factor buys no guesses.
func TestFactorsCountedApart(t *testing.T) {
	f := newFixture(t, Limits{}, SendLimits{})
	alice := User("uid=alice")
	for i := range DefaultAccountMaxFailures - 1 {
		if d := f.try(alice.For("app"), Caller("+1555000"+string(rune('0'+i)))); !d.Allowed {
			t.Fatalf("guess %d refused: %+v", i, d)
		}
	}
	// The attacker holds the phone (a swapped SIM) and passes it.
	if d := f.must(f.reg.Attempt(ctx, alice.For("phone"))); !d.Allowed {
		t.Fatal(d)
	}
	if err := f.reg.Succeed(ctx, alice.For("phone")); err != nil {
		t.Fatal(err)
	}
	// The authenticator streak survived: the next guess bans that factor.
	d := f.try(alice.For("app"), Caller("+15559999"))
	if d.Allowed || d.Key != alice.For("app") || !d.Started {
		t.Fatalf("guess after the phone success = %+v, want the app factor banned", d)
	}
	if d := f.must(f.reg.Attempt(ctx, alice.For("phone"))); !d.Allowed {
		t.Fatalf("the phone factor = %+v, want it untouched", d)
	}
}

// TestAttemptsGate: attempts still being checked count: once the window's
// attempts are taken, the next is refused before anything is checked.
func TestAttemptsGate(t *testing.T) {
	f := newFixture(t, Limits{}, SendLimits{})
	k := ChannelUser("slack:T01:U9")
	for i := range DefaultMaxFailures {
		if d := f.must(f.reg.Attempt(ctx, k)); !d.Allowed {
			t.Fatalf("attempt %d refused: %+v", i, d)
		}
	}
	d := f.must(f.reg.Attempt(ctx, k))
	if d.Allowed || d.Reason != ReasonTooManyAttempts || d.RetryAfter != DefaultWindow {
		t.Fatalf("attempt past the limit = %+v", d)
	}
	// A success gives its attempt back.
	if err := f.reg.Succeed(ctx, k); err != nil {
		t.Fatal(err)
	}
	if d := f.must(f.reg.Attempt(ctx, k)); !d.Allowed {
		t.Fatalf("attempt after a success = %+v", d)
	}
	f.clock.Advance(DefaultWindow)
	if d := f.must(f.reg.Attempt(ctx, k)); !d.Allowed {
		t.Fatalf("attempt in the next window = %+v", d)
	}
}

// TestDelays: delays come from identity keys only, stay within what a
// channel can wait, and start afresh after a ban (no 30 s wait that drops
// the phone call).
func TestDelays(t *testing.T) {
	f := newFixture(t, Limits{MaxFailures: 50, AccountMaxFailures: 50}, SendLimits{})
	caller, acct := Caller("+15555550100"), User("uid=carol").For("phone")
	want := []time.Duration{250, 500, 1000, 1500, 1500, 1500}
	for i, w := range want {
		d := f.try(caller, acct)
		if d.Delay != w*time.Millisecond {
			t.Fatalf("after %d failures: delay %v, want %v", i+1, d.Delay, w*time.Millisecond)
		}
	}
	if d := f.try(acct); d.Delay != 0 {
		t.Fatalf("account key alone gave a delay of %v", d.Delay)
	}
	t.Run("after a ban", func(t *testing.T) {
		f := newFixture(t, Limits{}, SendLimits{})
		k := Caller("+15555550101")
		for range DefaultMaxFailures {
			f.try(k)
		}
		f.clock.Advance(DefaultBanTime)
		if d := f.try(k); !d.Allowed || d.Delay != DefaultDelayBase {
			t.Fatalf("first failure after the ban = %+v, want delay %v", d, DefaultDelayBase)
		}
	})
	t.Run("capped", func(t *testing.T) {
		l := Limits{DelayBase: time.Second, DelayMax: time.Minute}.withDefaults()
		if got := l.delay(100); got != MaxDelay {
			t.Fatalf("delay(100) = %v, want the %v ceiling", got, MaxDelay)
		}
		if l := (Limits{DelayBase: -1}).withDefaults(); l.delay(10) != 0 {
			t.Fatal("negative DelayBase must turn delays off")
		}
	})
}

// TestHardCapTimeBound plays a patient attacker who waits out every ban:
// at most MaxConsecutive failures fit in ConsecutiveTTL, and the pause that
// follows ends by itself.
func TestHardCapTimeBound(t *testing.T) {
	f := newFixture(t, Limits{}, SendLimits{})
	k := User("uid=dave").For("app")
	failures, capped := 0, false
	start := f.clock.Now()
	for f.clock.Now().Sub(start) < DefaultConsecutiveTTL {
		d := f.must(f.reg.Attempt(ctx, k))
		if !d.Allowed {
			capped = capped || d.Reason == ReasonHardCap
			f.clock.Advance(d.RetryAfter)
			continue
		}
		failures++
		f.must(f.reg.Fail(ctx, k))
	}
	if failures > NISTMaxConsecutive || !capped {
		t.Fatalf("%d failures in %v (capped %v), want at most %d and the cap reached", failures, DefaultConsecutiveTTL, capped, NISTMaxConsecutive)
	}
	if d := f.must(f.reg.Attempt(ctx, k)); !d.Allowed {
		t.Fatalf("after the cap's pause: %+v, want allowed (never forever)", d)
	}
	t.Logf("%d failures in %v", failures, DefaultConsecutiveTTL)
}

func TestLift(t *testing.T) {
	f := newFixture(t, Limits{MaxConsecutive: 3, MaxFailures: 3, AccountMaxFailures: 3}, SendLimits{})
	k := User("uid=erin").For("app")
	for range 3 {
		f.try(k)
	}
	if d := f.must(f.reg.Attempt(ctx, k)); d.Reason != ReasonHardCap {
		t.Fatalf("Attempt = %+v, want hard_cap", d)
	}
	if err := f.reg.Lift(ctx, k); err != nil {
		t.Fatal(err)
	}
	if d := f.try(k); !d.Allowed {
		t.Fatalf("first failure after Lift = %+v, want a fresh streak", d)
	}
	if d := f.try(k); !d.Allowed {
		t.Fatalf("second failure after Lift = %+v", d)
	}
}

func TestNotice(t *testing.T) {
	f := newFixture(t, Limits{}, SendLimits{})
	k := User("uid=alice")
	want := []bool{true, false, false}
	for i, w := range want {
		if got, err := f.reg.Notice(ctx, k.For("app")); err != nil || got != w {
			t.Fatalf("notice %d = %v, %v; want %v", i, got, err, w)
		}
	}
	if got, _ := f.reg.Notice(ctx, k.For("phone")); got {
		t.Fatal("another factor of the same account must share the notice budget")
	}
	f.clock.Advance(DefaultNoticeEvery)
	if got, _ := f.reg.Notice(ctx, k); !got {
		t.Fatal("no notice after NoticeEvery")
	}
}

func TestCanonical(t *testing.T) {
	for in, want := range map[string]string{
		"jdoe": "jdoe", " JDoe ": "jdoe", "jdoe@corp.example": "jdoe", "JDOE@other.example": "jdoe",
		`CORP\jdoe`: "jdoe", "@x": "@x", "12345678": "12345678",
	} {
		if got := Canonical(in); got != want {
			t.Errorf("Canonical(%q) = %q, want %q", in, got, want)
		}
	}
	f := newFixture(t, Limits{}, SendLimits{})
	if f.reg.Typed("jdoe") != f.reg.Typed("JDoe@corp.example") || f.reg.Typed("jdoe") == f.reg.Typed("jdo") {
		t.Fatal("Typed must fold the forms of one login and only those")
	}
	if strings.Contains(f.reg.Typed("jdoe").ID, "jdoe") {
		t.Fatal("a typed key carries what was typed")
	}
}

func TestKeyName(t *testing.T) {
	f := newFixture(t, Limits{}, SendLimits{})
	a, b := f.reg.KeyName("unlocks", "demo:uid=alice"), f.reg.KeyName("unlocks", "demo:uid=bob")
	other, err := New(memory.New(), []byte("another key of 32 bytes or more!"), Limits{}, SendLimits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a == b || strings.Contains(a, "alice") || a != f.reg.KeyName("unlocks", "demo:uid=alice") ||
		a == other.KeyName("unlocks", "demo:uid=alice") || a == f.reg.KeyName("other", "demo:uid=alice") {
		t.Fatalf("KeyName: %q %q", a, b)
	}
}

func TestInvalidKeys(t *testing.T) {
	f := newFixture(t, Limits{}, SendLimits{})
	tests := []struct {
		name string
		keys []Key
	}{
		{"none", nil},
		{"empty id", []Key{User("")}},
		{"unknown scope", []Key{{Scope: "ip", ID: "10.0.0.1"}}},
		{"one bad among good", []Key{User("a"), {Scope: "", ID: "x"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d, err := f.reg.Attempt(ctx, tt.keys...); err == nil || d.Allowed {
				t.Errorf("Attempt = %+v, %v; want error", d, err)
			}
			if d, err := f.reg.Check(ctx, tt.keys...); err == nil || d.Allowed {
				t.Errorf("Check = %+v, %v; want error", d, err)
			}
			if d, err := f.reg.Fail(ctx, tt.keys...); err == nil || d.Allowed {
				t.Errorf("Fail = %+v, %v; want error", d, err)
			}
			if err := f.reg.Succeed(ctx, tt.keys...); err == nil {
				t.Error("Succeed: want error")
			}
			if err := f.reg.Lift(ctx, tt.keys...); err == nil {
				t.Error("Lift: want error")
			}
		})
	}
	if _, err := New(memory.New(), []byte("short"), Limits{}, SendLimits{}, nil); err == nil {
		t.Error("New with a short HMAC key: want error")
	}
}

func TestDefaultsAndValidate(t *testing.T) {
	r, err := New(memory.New(), testKey, Limits{MaxConsecutive: 500}, SendLimits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	l := r.Limits()
	if l.MaxFailures != 5 || l.AccountMaxFailures != 10 || l.MaxConsecutive != 100 || l.Window != 15*time.Minute ||
		l.DelayBase != 250*time.Millisecond || l.DelayMax != 1500*time.Millisecond || l.BanTime != 15*time.Minute {
		t.Fatalf("Limits() = %+v", l)
	}
	if got := (Limits{BanTime: 2 * time.Hour}).withDefaults().Bans; len(got) != 2 || got[0] != 2*time.Hour || got[1] != 24*time.Hour {
		t.Fatalf("ladder from BanTime 2h = %v", got)
	}
	if got := (Limits{Window: time.Hour, Bans: []time.Duration{time.Minute, 3 * time.Hour}}).withDefaults().Bans; got[0] != time.Hour || got[1] != 3*time.Hour {
		t.Fatalf("ladder below the window = %v", got)
	}
	if s := r.SendLimits(); s != (SendLimits{3, 5, 500}) {
		t.Fatalf("SendLimits() = %+v", s)
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"zero", Limits{}.Validate(), ""},
		{"above NIST", Limits{MaxConsecutive: 101}.Validate(), "NIST"},
		{"negative", Limits{Window: -time.Second}.Validate(), "negative"},
		{"delay max below base", Limits{DelayBase: time.Second, DelayMax: time.Millisecond}.Validate(), "below the base"},
		{"delay beyond channels", Limits{DelayMax: 30 * time.Second}.Validate(), "Slack and Twilio"},
		{"bad ban", Limits{Bans: []time.Duration{0}}.Validate(), "positive"},
		{"send zero", SendLimits{}.Validate(), ""},
		{"send negative", SendLimits{GlobalPerHour: -1}.Validate(), "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.want == "" {
				if tt.err != nil {
					t.Fatal(tt.err)
				}
				return
			}
			if tt.err == nil || !strings.Contains(tt.err.Error(), tt.want) {
				t.Fatalf("Validate = %v, want %q", tt.err, tt.want)
			}
		})
	}
}
