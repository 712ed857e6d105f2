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

func newClock() *clock { return &clock{t: time.Date(2026, 3, 2, 9, 20, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

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
	return &fixture{t: t, reg: New(rec, l, s, c.Now), clock: c, st: rec}
}

// must fails the test on a regulator error.
func (f *fixture) must(d Decision, err error) Decision {
	f.t.Helper()
	if err != nil {
		f.t.Fatalf("regulator error: %v", err)
	}
	return d
}

var ctx = context.Background()

var allScopes = []Key{
	User("uid=alice,ou=people,dc=example,dc=org"),
	ChannelUser("slack:T01:U123"),
	Caller("+15555550100"),
	Destination("+15555550199"),
}

func TestBanPerScope(t *testing.T) {
	for _, k := range allScopes {
		t.Run(string(k.Scope), func(t *testing.T) {
			f := newFixture(t, Limits{}, SendLimits{})
			other := Key{k.Scope, k.ID + "-other"}
			for i := 1; i < DefaultMaxFailures; i++ {
				if d := f.must(f.reg.Fail(ctx, k)); !d.Allowed {
					t.Fatalf("failure %d refused: %+v", i, d)
				}
				f.clock.Advance(time.Minute)
			}
			d := f.must(f.reg.Fail(ctx, k))
			if d.Allowed || d.Reason != ReasonTooManyFailures || d.RetryAfter != DefaultBanTime || d.Key != k {
				t.Fatalf("5th failure = %+v, want too_many_failures for 15m", d)
			}
			f.clock.Advance(DefaultBanTime - time.Second)
			d = f.must(f.reg.Check(ctx, k))
			if d.Allowed || d.Reason != ReasonBanned || d.RetryAfter != time.Second {
				t.Fatalf("Check during ban = %+v", d)
			}
			if d := f.must(f.reg.Check(ctx, other)); !d.Allowed {
				t.Fatalf("other key of the same scope refused: %+v", d)
			}
			f.clock.Advance(time.Second)
			if d := f.must(f.reg.Check(ctx, k)); !d.Allowed {
				t.Fatalf("Check after ban = %+v", d)
			}
			// A fresh window after the ban: four more failures are allowed.
			for i := 1; i < DefaultMaxFailures; i++ {
				if d := f.must(f.reg.Fail(ctx, k)); !d.Allowed {
					t.Fatalf("failure %d after ban refused: %+v", i, d)
				}
			}
		})
	}
}

func TestWindow(t *testing.T) {
	tests := []struct {
		name   string
		gap    time.Duration // between the 4th and 5th failure
		banned bool
	}{
		{"within window", DefaultWindow - 4*time.Minute - time.Second, true},
		{"window over", DefaultWindow - 4*time.Minute, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Limits{}, SendLimits{})
			k := User("bob")
			for range 4 {
				f.must(f.reg.Fail(ctx, k))
				f.clock.Advance(time.Minute)
			}
			f.clock.Advance(tt.gap)
			d := f.must(f.reg.Fail(ctx, k))
			if d.Allowed == tt.banned {
				t.Fatalf("5th failure = %+v, want banned=%v", d, tt.banned)
			}
		})
	}
}

// TestCrossChannel: failures on the directory user add up whatever the
// channel, and a refusal names the key that caused it.
func TestCrossChannel(t *testing.T) {
	f := newFixture(t, Limits{}, SendLimits{})
	user := User("uid=alice")
	for range 4 {
		f.must(f.reg.Fail(ctx, user, ChannelUser("slack:T01:U123")))
	}
	d := f.must(f.reg.Fail(ctx, user, Caller("+15555550100")))
	if d.Allowed || d.Key != user {
		t.Fatalf("5th failure on the phone = %+v, want the user banned", d)
	}
	d = f.must(f.reg.Check(ctx, ChannelUser("teams:tenant:42"), user))
	if d.Allowed || d.Reason != ReasonBanned || d.Key != user {
		t.Fatalf("Check from Teams = %+v", d)
	}
	if d := f.must(f.reg.Check(ctx, ChannelUser("slack:T01:U123"))); !d.Allowed {
		t.Fatalf("the Slack identity alone has 4 failures and must be allowed: %+v", d)
	}
}

func TestProgressiveDelay(t *testing.T) {
	f := newFixture(t, Limits{MaxFailures: 100, Window: time.Minute}, SendLimits{})
	k := Caller("+15555550100")
	want := []time.Duration{1, 2, 4, 8, 16, 30, 30, 30}
	for i, w := range want {
		w *= time.Second
		d := f.must(f.reg.Fail(ctx, k))
		if d.Delay != w || !d.Allowed {
			t.Fatalf("after %d failures: %+v, want delay %v", i+1, d, w)
		}
		if c := f.must(f.reg.Check(ctx, k)); c.Delay != w {
			t.Fatalf("Check after %d failures: delay %v, want %v", i+1, c.Delay, w)
		}
	}
	if err := f.reg.Succeed(ctx, k); err != nil {
		t.Fatal(err)
	}
	if d := f.must(f.reg.Check(ctx, k)); d.Delay != 0 {
		t.Fatalf("delay after success = %v", d.Delay)
	}
	t.Run("limits", func(t *testing.T) {
		tests := []struct {
			l    Limits
			n    int
			want time.Duration
		}{
			{Limits{}, 0, 0},
			{Limits{DelayBase: 500 * time.Millisecond, DelayMax: 3 * time.Second}, 3, 2 * time.Second},
			{Limits{DelayBase: 500 * time.Millisecond, DelayMax: 3 * time.Second}, 4, 3 * time.Second},
			{Limits{}, 100, 30 * time.Second},
			{Limits{DelayBase: -1}, 10, 0},
		}
		for _, tt := range tests {
			if got := tt.l.withDefaults().delay(tt.n); got != tt.want {
				t.Errorf("delay(%d) with %+v = %v, want %v", tt.n, tt.l, got, tt.want)
			}
		}
	})
}

// TestHardCap plays a patient attacker who waits out every ban: the key
// takes exactly MaxConsecutive failures, then stays locked for good.
func TestHardCap(t *testing.T) {
	for _, k := range allScopes {
		t.Run(string(k.Scope), func(t *testing.T) {
			f := newFixture(t, Limits{}, SendLimits{})
			attempts := 0
			var last Decision
			for range 1000 {
				d := f.must(f.reg.Check(ctx, k))
				if !d.Allowed {
					if d.Reason == ReasonHardCap {
						f.clock.Advance(24 * time.Hour)
					} else {
						f.clock.Advance(d.RetryAfter)
					}
					continue
				}
				attempts++
				last = f.must(f.reg.Fail(ctx, k))
			}
			if attempts != NISTMaxConsecutive {
				t.Fatalf("attacker made %d attempts, want %d", attempts, NISTMaxConsecutive)
			}
			if last.Allowed || last.Reason != ReasonHardCap {
				t.Fatalf("100th failure = %+v, want hard_cap", last)
			}
			d := f.must(f.reg.Check(ctx, k))
			if d.Allowed || d.Reason != ReasonHardCap || d.RetryAfter != 0 {
				t.Fatalf("Check after the cap = %+v", d)
			}
			// Failures recorded anyway do not count past the cap; the lock
			// record never expires.
			f.must(f.reg.Fail(ctx, k))
			st, _, err := f.reg.load(ctx, k)
			if err != nil || st.Consecutive != NISTMaxConsecutive || !st.Locked {
				t.Fatalf("state after the cap = %+v, %v", st, err)
			}
			if ttl := f.st.keys[k.storeKey()]; ttl != 0 {
				t.Fatalf("locked record TTL = %v, want 0 (never expires)", ttl)
			}
		})
	}
	t.Run("lifted by", func(t *testing.T) {
		for _, how := range []string{"Succeed", "Reset"} {
			t.Run(how, func(t *testing.T) {
				f := newFixture(t, Limits{MaxConsecutive: 3, MaxFailures: 10}, SendLimits{})
				k := User("carol")
				for range 3 {
					f.must(f.reg.Fail(ctx, k))
				}
				if d := f.must(f.reg.Check(ctx, k)); d.Reason != ReasonHardCap {
					t.Fatalf("Check = %+v, want hard_cap", d)
				}
				var err error
				if how == "Succeed" {
					err = f.reg.Succeed(ctx, k)
				} else {
					err = f.reg.Reset(ctx, k)
				}
				if err != nil {
					t.Fatal(err)
				}
				if d := f.must(f.reg.Check(ctx, k)); !d.Allowed || d.Delay != 0 {
					t.Fatalf("Check after %s = %+v", how, d)
				}
			})
		}
	})
}

func TestSucceedKeepsWindowAndBan(t *testing.T) {
	f := newFixture(t, Limits{}, SendLimits{})
	k := User("dave")
	for range 4 {
		f.must(f.reg.Fail(ctx, k))
	}
	if err := f.reg.Succeed(ctx, k); err != nil {
		t.Fatal(err)
	}
	d := f.must(f.reg.Fail(ctx, k))
	if d.Allowed || d.Reason != ReasonTooManyFailures {
		t.Fatalf("5th failure in the window after a success = %+v, want a ban", d)
	}
	if d.Delay != time.Second {
		t.Fatalf("delay = %v, want 1s (streak restarted)", d.Delay)
	}
	if err := f.reg.Succeed(ctx, k); err != nil {
		t.Fatal(err)
	}
	if d := f.must(f.reg.Check(ctx, k)); d.Reason != ReasonBanned {
		t.Fatalf("Check after success during ban = %+v, want still banned", d)
	}
	if err := f.reg.Reset(ctx, k); err != nil {
		t.Fatal(err)
	}
	if d := f.must(f.reg.Check(ctx, k)); !d.Allowed {
		t.Fatalf("Check after Reset = %+v", d)
	}
	// Succeed on a key never seen writes nothing.
	n := len(f.st.keys)
	if err := f.reg.Succeed(ctx, User("nobody")); err != nil || len(f.st.keys) != n {
		t.Fatalf("Succeed(unknown) wrote a record (err %v)", err)
	}
}

func TestCombine(t *testing.T) {
	f := newFixture(t, Limits{MaxConsecutive: 8}, SendLimits{})
	banned, locked, fine := User("banned"), Caller("locked"), ChannelUser("fine")
	for range 5 {
		f.must(f.reg.Fail(ctx, banned))
	}
	for range 8 {
		f.must(f.reg.Fail(ctx, locked))
		f.clock.Advance(DefaultBanTime)
	}
	f.clock.Advance(-DefaultBanTime * 8) // back inside the ban of "banned"
	d := f.must(f.reg.Check(ctx, fine, banned, locked))
	if d.Allowed || d.Reason != ReasonHardCap || d.Key != locked {
		t.Fatalf("Check = %+v, want the hard cap to win", d)
	}
	if d.Delay != DefaultDelayMax {
		t.Fatalf("delay = %v, want the longest", d.Delay)
	}
	d = f.must(f.reg.Check(ctx, fine, banned))
	if d.Allowed || d.Reason != ReasonBanned || d.Key != banned {
		t.Fatalf("Check = %+v, want banned", d)
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
			if d, err := f.reg.Check(ctx, tt.keys...); err == nil || d.Allowed {
				t.Errorf("Check = %+v, %v; want error", d, err)
			}
			if d, err := f.reg.Fail(ctx, tt.keys...); err == nil || d.Allowed {
				t.Errorf("Fail = %+v, %v; want error", d, err)
			}
			if err := f.reg.Succeed(ctx, tt.keys...); err == nil {
				t.Error("Succeed: want error")
			}
			if err := f.reg.Reset(ctx, tt.keys...); err == nil {
				t.Error("Reset: want error")
			}
		})
	}
}

func TestDefaultsAndValidate(t *testing.T) {
	r := New(memory.New(), Limits{MaxConsecutive: 500}, SendLimits{}, nil)
	l := r.Limits()
	want := Limits{MaxFailures: 5, Window: 15 * time.Minute, BanTime: 15 * time.Minute, MaxConsecutive: 100,
		DelayBase: time.Second, DelayMax: 30 * time.Second, ConsecutiveTTL: 30 * 24 * time.Hour}
	if l != want {
		t.Fatalf("Limits() = %+v, want %+v", l, want)
	}
	if s := r.SendLimits(); s != (SendLimits{3, 5, 500}) {
		t.Fatalf("SendLimits() = %+v", s)
	}
	if got := New(memory.New(), Limits{Window: 48 * time.Hour, ConsecutiveTTL: time.Hour}, SendLimits{}, nil).Limits().ConsecutiveTTL; got != 48*time.Hour {
		t.Fatalf("ConsecutiveTTL = %v, want raised to the window", got)
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"zero", Limits{}.Validate(), ""},
		{"above NIST", Limits{MaxConsecutive: 101}.Validate(), "NIST"},
		{"negative", Limits{Window: -time.Second}.Validate(), "negative"},
		{"delay max below base", Limits{DelayBase: time.Minute, DelayMax: time.Second}.Validate(), "below the base"},
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
