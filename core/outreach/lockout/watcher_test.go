package lockout_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/alarm"
	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/outreach"
	"github.com/resetbot/resetbot/core/outreach/lockout"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store/memory"
)

// fakeDir is a LockoutSource and a Directory's Status over fixed data.
type fakeDir struct {
	mu     sync.Mutex
	locks  []directory.Lockout
	status map[string]directory.Status
}

func (f *fakeDir) Lockouts(_ context.Context, q directory.LockoutQuery) (directory.LockoutRead, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	// Every read returns everything: the watcher must dedupe.
	return directory.LockoutRead{Lockouts: append([]directory.Lockout(nil), f.locks...), Cursor: "c",
		Entries: len(f.locks), Full: q.Cursor == ""}, nil
}

func (f *fakeDir) lock(login string, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.locks = append(f.locks, directory.Lockout{User: directory.User{ID: "uid=" + login, Login: login,
		Email: login + "@example.org"}, At: at})
}

func (f *fakeDir) Status(_ context.Context, u directory.User) (directory.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if st, ok := f.status[u.Login]; ok {
		return st, nil
	}
	return directory.Status{Locked: true}, nil
}
func (f *fakeDir) Find(context.Context, directory.Key, string) ([]directory.User, error) {
	return nil, nil
}
func (f *fakeDir) ResetPassword(context.Context, directory.User, secret.String, directory.ResetOptions) error {
	return nil
}
func (f *fakeDir) Unlock(context.Context, directory.User) error { return nil }

// fakeChat maps "<login>@example.org" to a chat user unless unmapped.
type fakeChat struct {
	mu       sync.Mutex
	unmapped map[string]bool
	sent     []outreach.Notice
	to       []outreach.Recipient
}

func (c *fakeChat) Channel() string { return "slack" }
func (c *fakeChat) Resolve(_ context.Context, u directory.User) (outreach.Recipient, error) {
	if c.unmapped[u.Login] {
		return outreach.Recipient{}, outreach.ErrUnmapped
	}
	return outreach.Recipient{Channel: "slack", User: "T1:U-" + u.Login, TimeZone: "Europe/Paris"}, nil
}
func (c *fakeChat) Send(_ context.Context, r outreach.Recipient, n outreach.Notice) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent, c.to = append(c.sent, n), append(c.to, r)
	return nil
}
func (c *fakeChat) count() int { c.mu.Lock(); defer c.mu.Unlock(); return len(c.sent) }

type rig struct {
	dir    *fakeDir
	chat   *fakeChat
	rec    *audit.Recorder
	alerts []alarm.Alert
	w      *lockout.Watcher
	now    time.Time
	keys   outreach.Keys
	st     *memory.Store
}

func newRig(t *testing.T, tweak func(*lockout.Options)) *rig {
	t.Helper()
	keys, _ := outreach.NewKeys(bytes.Repeat([]byte{3}, 32))
	r := &rig{dir: &fakeDir{status: map[string]directory.Status{}}, chat: &fakeChat{unmapped: map[string]bool{}},
		rec: &audit.Recorder{}, now: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC), keys: keys, st: memory.New()}
	o := lockout.Options{Directory: "corp", Source: r.dir, Dir: r.dir, Store: r.st, Keys: keys,
		Messengers: []outreach.DirectMessenger{r.chat}, Audit: r.rec, Clock: func() time.Time { return r.now },
		Alarm: alarm.NotifierFunc(func(_ context.Context, a alarm.Alert) error { r.alerts = append(r.alerts, a); return nil })}
	if tweak != nil {
		tweak(&o)
	}
	w, err := lockout.New(o)
	if err != nil {
		t.Fatal(err)
	}
	r.w = w
	return r
}

func (r *rig) poll(t *testing.T) lockout.PollStats {
	t.Helper()
	st, err := r.w.Poll(context.Background())
	if err != nil {
		t.Fatalf("Poll: %v", err)
	}
	return st
}

func (r *rig) reasons() map[string]string {
	m := map[string]string{}
	for _, e := range r.rec.Find(lockout.EventName) {
		m[e.Actor] = e.Reason
	}
	return m
}

func TestOneNoticePerLockout(t *testing.T) {
	r := newRig(t, nil)
	r.dir.lock("alice", r.now.Add(-time.Minute))
	r.poll(t)
	r.poll(t)
	if n := r.chat.count(); n != 1 {
		t.Fatalf("%d notices, want 1", n)
	}
	n := r.chat.sent[0]
	if n.MessageID != "outreach.lockout" || n.Args["when"] != "2026-12-07 10:59 CET" || len(n.Actions) != 2 {
		t.Fatalf("notice = %+v", n)
	}
	// A new lockout of the same account is a new event.
	r.dir.lock("alice", r.now)
	r.poll(t)
	if n := r.chat.count(); n != 2 {
		t.Fatalf("%d notices after a second lockout, want 2", n)
	}
}

func TestNeverOffered(t *testing.T) {
	r := newRig(t, nil)
	at := r.now.Add(-time.Minute)
	for _, l := range []string{"held", "admin", "prot", "gone", "nochat"} {
		r.dir.lock(l, at)
	}
	r.dir.locks = append(r.dir.locks, directory.Lockout{User: directory.User{ID: "uid=perm", Login: "perm"}, Admin: true})
	r.dir.status["held"] = directory.Status{Locked: true, Disabled: true}
	r.dir.status["admin"] = directory.Status{Locked: true, AdminLocked: true}
	r.dir.status["prot"] = directory.Status{Locked: true, Protected: true}
	r.dir.status["gone"] = directory.Status{}
	r.chat.unmapped["nochat"] = true
	r.poll(t)
	if n := r.chat.count(); n != 0 {
		t.Fatalf("%d notices, want none", n)
	}
	want := map[string]string{"corp:uid=held": lockout.ReasonHeld, "corp:uid=admin": lockout.ReasonHeld,
		"corp:uid=prot": lockout.ReasonProtected, "corp:uid=gone": lockout.ReasonNotLocked,
		"corp:uid=nochat": lockout.ReasonUnmapped, "corp:uid=perm": lockout.ReasonAdminLock}
	got := r.reasons()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: reason %q, want %q", k, got[k], v)
		}
	}
}

func TestRateLimitPerUser(t *testing.T) {
	r := newRig(t, func(o *lockout.Options) { o.RatePerUser = 2 })
	for i := range 4 {
		r.dir.lock("alice", r.now.Add(time.Duration(i-5)*time.Minute))
		r.poll(t)
	}
	if n := r.chat.count(); n != 2 {
		t.Fatalf("%d notices, want 2", n)
	}
	if got := r.reasons()["corp:uid=alice"]; got != lockout.ReasonRateLimited {
		t.Fatalf("last reason %q", got)
	}
}

// TestQuietHoursInUserZone defers a notice past quiet hours (in the
// user's zone) and sends it then, once, unless the lock ended meanwhile.
func TestQuietHoursInUserZone(t *testing.T) {
	// 10:00 UTC is 11:00 in Paris: quiet 10:30-12:00 there, not in UTC.
	r := newRig(t, func(o *lockout.Options) {
		o.Quiet = lockout.Quiet{Start: 10*time.Hour + 30*time.Minute, End: 12 * time.Hour, Zone: time.UTC}
	})
	r.dir.lock("alice", r.now.Add(-time.Minute))
	r.poll(t)
	if n := r.chat.count(); n != 0 || r.reasons()["corp:uid=alice"] != lockout.ReasonQuietHours {
		t.Fatalf("%d notices, reason %q", n, r.reasons()["corp:uid=alice"])
	}
	// Still quiet: it waits.
	r.now = r.now.Add(50 * time.Minute)
	r.poll(t)
	if n := r.chat.count(); n != 0 {
		t.Fatalf("%d notices during quiet hours", n)
	}
	// Quiet hours over (12:00 in Paris): delivered once, if still locked.
	r.now = r.now.Add(15 * time.Minute)
	r.poll(t)
	r.poll(t)
	if n := r.chat.count(); n != 1 {
		t.Fatalf("%d notices after quiet hours, want 1", n)
	}
	// A lockout that ended meanwhile is not delivered.
	r.now = time.Date(2026, 12, 8, 10, 0, 0, 0, time.UTC)
	r.dir.lock("bob", r.now.Add(-time.Minute))
	r.poll(t)
	r.dir.status["bob"] = directory.Status{}
	r.now = r.now.Add(time.Hour)
	r.poll(t)
	if n := r.chat.count(); n != 1 || r.reasons()["corp:uid=bob"] != lockout.ReasonNotLocked {
		t.Fatalf("%d notices, bob's reason %q", n, r.reasons()["corp:uid=bob"])
	}
}

func TestSprayOneAlertNoDMs(t *testing.T) {
	for _, pause := range []bool{true, false} {
		t.Run(fmt.Sprintf("pause=%v", pause), func(t *testing.T) {
			r := newRig(t, func(o *lockout.Options) { o.Spray = lockout.Spray{Accounts: 10, Pause: pause} })
			for i := range 20 {
				r.dir.lock(fmt.Sprintf("u%02d", i), r.now.Add(-time.Minute))
			}
			st := r.poll(t)
			for i := 20; i < 25; i++ {
				r.dir.lock(fmt.Sprintf("u%02d", i), r.now)
			}
			r.now = r.now.Add(time.Minute)
			r.poll(t)
			if len(r.alerts) != 1 || r.alerts[0].Rule != lockout.RuleSpray || r.alerts[0].Count != 20 || !st.Wave {
				t.Fatalf("alerts = %+v, wave %v; want one lockout_spray of 20", r.alerts, st.Wave)
			}
			want := 25
			if pause {
				want = 0
			}
			if n := r.chat.count(); n != want {
				t.Fatalf("%d notices, want %d", n, want)
			}
			if len(r.rec.Find("outreach.spray")) != 1 {
				t.Fatalf("spray audit events: %v", r.rec.Names())
			}
		})
	}
}

func TestAnswers(t *testing.T) {
	r := newRig(t, nil)
	r.dir.lock("alice", r.now.Add(-time.Minute))
	r.poll(t)
	ref, to := r.chat.sent[0].Ref, r.chat.to[0]
	a := &lockout.Answers{Store: r.st, Keys: r.keys, Audit: r.rec}
	ctx := context.Background()
	answer := func(ref, action string, who outreach.Recipient) outreach.Reply {
		t.Helper()
		rep, err := a.Answer(ctx, ref, action, who)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	if rep := answer(ref, outreach.ActionUnlock, to); rep.Flow != "unlock" {
		t.Fatalf("unlock reply %+v", rep)
	}
	other := outreach.Recipient{Channel: "slack", User: "T1:U-mallory"}
	if rep := answer(ref, outreach.ActionNotMe, other); rep.MessageID != "outreach.expired" {
		t.Fatalf("someone else's click: %+v", rep)
	}
	if rep := answer("nope", outreach.ActionNotMe, to); rep.MessageID != "outreach.expired" {
		t.Fatalf("unknown ref: %+v", rep)
	}
	for range 2 {
		rep := answer(ref, outreach.ActionNotMe, to)
		if rep.MessageID != "outreach.not_me_done" || len(rep.Actions) != 1 || rep.Actions[0].ID != outreach.ActionReset {
			t.Fatalf("not me reply %+v", rep)
		}
	}
	nm := r.rec.Find(alarm.NameNotMe)
	if len(nm) != 1 || nm[0].Actor != "corp:uid=alice" || nm[0].Fields["locked_at"] == "" {
		t.Fatalf("assist.not_me events = %+v", nm)
	}
	// The alarm detector turns it into one not_me alert.
	var got []alarm.Alert
	d := alarm.New(alarm.Thresholds{}, alarm.NotifierFunc(func(_ context.Context, al alarm.Alert) error {
		got = append(got, al)
		return nil
	}), nil)
	_ = d.Write(ctx, nm[0])
	if len(got) != 1 || got[0].Rule != alarm.RuleNotMe {
		t.Fatalf("alarm = %+v", got)
	}
}
