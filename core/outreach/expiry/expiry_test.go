package expiry_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/directory/memory"
	"github.com/resetbot/resetbot/core/messages"
	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/core/notify/outbox"
	"github.com/resetbot/resetbot/core/outreach"
	"github.com/resetbot/resetbot/core/outreach/expiry"
	"github.com/resetbot/resetbot/core/outreach/lockout"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store"
	storemem "github.com/resetbot/resetbot/core/store/memory"
)

const day = 24 * time.Hour

// chat is a fake DirectMessenger: users are reachable by work email when
// listed in known.
type chat struct {
	mu    sync.Mutex
	known map[string]string // email -> chat user
	sent  []sentDM
}

type sentDM struct {
	To     outreach.Recipient
	Notice outreach.Notice
}

func (c *chat) Channel() string { return "slack" }

func (c *chat) Resolve(_ context.Context, u directory.User) (outreach.Recipient, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if id, ok := c.known[u.Email]; ok {
		return outreach.Recipient{Channel: "slack", User: id}, nil
	}
	return outreach.Recipient{}, outreach.ErrUnmapped
}

func (c *chat) Send(_ context.Context, r outreach.Recipient, n outreach.Notice) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent, sentDM{r, n})
	return nil
}

func (c *chat) dms() []sentDM {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]sentDM(nil), c.sent...)
}

// world is a memory directory, store and chat on one fake clock.
type world struct {
	t    *testing.T
	mu   sync.Mutex
	now  time.Time
	dir  *memory.Directory
	st   store.Store
	chat *chat
	rec  *audit.Recorder
	box  *outbox.Outbox
	cat  *messages.Catalog
}

func (w *world) clock() time.Time { w.mu.Lock(); defer w.mu.Unlock(); return w.now }
func (w *world) advance(d time.Duration) {
	w.mu.Lock()
	w.now = w.now.Add(d)
	w.mu.Unlock()
}

// newWorld holds n users, user i changed its password changedAgo[i] ago
// (the last value repeats), and a policy MaxAge of maxAge.
func newWorld(t *testing.T, n int, maxAge time.Duration, changedAgo ...time.Duration) *world {
	w := &world{t: t, now: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), rec: &audit.Recorder{},
		chat: &chat{known: map[string]string{}}, box: outbox.New(nil)}
	var accts []memory.Account
	for i := range n {
		ago := changedAgo[min(i, len(changedAgo)-1)]
		login := fmt.Sprintf("user%02d", i)
		accts = append(accts, memory.Account{User: directory.User{Login: login, Email: login + "@corp.example"},
			Password: secret.New("Initial-Passw0rd-" + login), PasswordChangedAt: w.now.Add(-ago)})
		w.chat.known[login+"@corp.example"] = "T1:U" + login
	}
	w.dir = memory.New(accts...)
	w.dir.SetClock(w.clock)
	w.dir.SetMaxAge(maxAge)
	w.st = storemem.New(storemem.WithClock(w.clock))
	var err error
	if w.cat, err = messages.Load(); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) scheduler(mut ...func(*expiry.Options)) *expiry.Scheduler {
	w.t.Helper()
	keys, err := outreach.NewKeys(bytes.Repeat([]byte{3}, 32))
	if err != nil {
		w.t.Fatal(err)
	}
	o := expiry.Options{Dir: w.dir, Messengers: []outreach.DirectMessenger{w.chat}, Renderer: w.cat,
		Store: w.st, Keys: keys, Audit: w.rec, Clock: w.clock}
	for _, m := range mut {
		m(&o)
	}
	s, err := expiry.New(o)
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

func (w *world) sweep(s *expiry.Scheduler) expiry.Stats {
	w.t.Helper()
	st, err := s.Sweep(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	return st
}

// TestOneReminderPerThreshold: six days left is the 7-day threshold; a
// second sweep sends nothing; at half a day left the 1-day reminder goes.
func TestOneReminderPerThreshold(t *testing.T) {
	w := newWorld(t, 1, 30*day, 24*day) // 6 days left
	s := w.scheduler()
	w.sweep(s)
	w.sweep(s)
	dms := w.chat.dms()
	if len(dms) != 1 {
		t.Fatalf("two sweeps sent %d DMs, want 1", len(dms))
	}
	n := dms[0].Notice
	if n.MessageID != "expiry.reminder" || n.Args["days"] != "6" || n.Kind != expiry.Kind ||
		len(n.Actions) != 1 || n.Actions[0].ID != outreach.ActionChange || n.Ref == "" {
		t.Fatalf("notice = %+v", n)
	}
	if txt := w.cat.Text("fr", n.MessageID, false, n.Args); !strings.Contains(txt, "6 jours") {
		t.Errorf("French reminder = %q", txt)
	}
	w.advance(5*day + 12*time.Hour)
	w.sweep(s)
	w.sweep(s)
	if dms = w.chat.dms(); len(dms) != 2 || dms[1].Notice.MessageID != "expiry.reminder.last_day" {
		t.Fatalf("after 5.5 days: %d DMs (%+v), want the 1-day reminder as the second", len(dms), dms)
	}
	sent := 0
	for _, e := range w.rec.Events() {
		if e.Name == expiry.EventName && e.Reason == expiry.ReasonSent {
			sent++
		}
	}
	if sent != 2 {
		t.Errorf("audit has %d sent reminders, want 2", sent)
	}
}

// TestNewPasswordNewSeries: after a change the claims of the old password
// do not silence the new one's reminders.
func TestNewPasswordNewSeries(t *testing.T) {
	w := newWorld(t, 1, 6*day, 0) // changed just now: 6 days left
	s := w.scheduler()
	w.sweep(s)
	w.advance(time.Hour)
	u, _ := w.dir.Find(context.Background(), directory.ByLogin, "user00")
	if err := w.dir.ResetPassword(context.Background(), u[0], secret.New("Second-Passw0rd-1"), directory.ResetOptions{}); err != nil {
		t.Fatal(err)
	}
	w.sweep(s)
	if n := len(w.chat.dms()); n != 2 {
		t.Fatalf("%d DMs, want one per password", n)
	}
}

// TestPolicyChangeNoStorm: a policy change puts 50 accounts a day from
// expiry at once. Each gets only the 1-day reminder (never the 14- and
// 7-day ones too), and no sweep sends more than the cap; the rest follow.
func TestPolicyChangeNoStorm(t *testing.T) {
	w := newWorld(t, 50, 365*day, 29*day+12*time.Hour)
	s := w.scheduler(func(o *expiry.Options) { o.MaxPerRun = 20 })
	if st := w.sweep(s); st.Listed != 0 || len(w.chat.dms()) != 0 {
		t.Fatalf("before the change: %+v", st)
	}
	w.dir.SetMaxAge(30 * day) // half a day left for everyone
	var capped []bool
	for range 4 {
		st := w.sweep(s)
		capped = append(capped, st.CapReached)
	}
	dms := w.chat.dms()
	per := map[string]int{}
	for _, d := range dms {
		per[d.To.User]++
		if d.Notice.MessageID != "expiry.reminder.last_day" {
			t.Errorf("%s got %s, want only the current threshold's reminder", d.To.User, d.Notice.MessageID)
		}
	}
	if len(dms) != 50 || len(per) != 50 {
		t.Fatalf("%d DMs to %d users, want exactly one each to 50", len(dms), len(per))
	}
	if fmt.Sprint(capped) != "[true true false false]" {
		t.Errorf("cap reached per sweep = %v, want [true true false false] (20, 20, 10, 0)", capped)
	}
	n := 0
	for _, e := range w.rec.Events() {
		if e.Reason == expiry.ReasonCapped {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d cap audit events, want 2", n)
	}
}

// TestTwoReplicas: two schedulers sweeping the same store at once still
// send one reminder per account.
func TestTwoReplicas(t *testing.T) {
	w := newWorld(t, 30, 30*day, 24*day)
	a, b := w.scheduler(), w.scheduler()
	var wg sync.WaitGroup
	for _, s := range []*expiry.Scheduler{a, b} {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = s.Sweep(context.Background()) }()
	}
	wg.Wait()
	if n := len(w.chat.dms()); n != 30 {
		t.Fatalf("two replicas sent %d DMs to 30 accounts", n)
	}
}

// TestQuietHours: nothing is sent or claimed in quiet hours; the reminder
// goes out at the first sweep after.
func TestQuietHours(t *testing.T) {
	w := newWorld(t, 1, 30*day, 24*day) // 10:00 UTC
	quiet := w.scheduler(func(o *expiry.Options) { o.Quiet = lockout.Quiet{Start: 9 * time.Hour, End: 11 * time.Hour} })
	if st := w.sweep(quiet); st.Reasons[expiry.ReasonQuietHours] != 1 || len(w.chat.dms()) != 0 {
		t.Fatalf("in quiet hours: %+v, %d DMs", st, len(w.chat.dms()))
	}
	w.advance(90 * time.Minute)
	w.sweep(quiet)
	if n := len(w.chat.dms()); n != 1 {
		t.Fatalf("after quiet hours: %d DMs, want 1", n)
	}
}

// TestEmailFallback: a user no messenger knows gets an e-mail with the
// link; an unmapped user without e-mail configured is skipped.
func TestEmailFallback(t *testing.T) {
	w := newWorld(t, 2, 30*day, 24*day)
	delete(w.chat.known, "user01@corp.example")
	s := w.scheduler(func(o *expiry.Options) {
		o.Email = w.box.Sender(notify.ChannelEmail)
		o.ChangeURL = "https://slack.com/app_redirect?app=A123"
	})
	w.sweep(s)
	msgs := w.box.Messages()
	if len(w.chat.dms()) != 1 || len(msgs) != 1 {
		t.Fatalf("%d DMs, %d e-mails; want one of each", len(w.chat.dms()), len(msgs))
	}
	m := msgs[0].Message
	if m.To != "user01@corp.example" || m.Kind != notify.KindNotice || !strings.Contains(m.Body.Reveal(), "app_redirect?app=A123") ||
		m.Subject == "" {
		t.Fatalf("e-mail = %v body %q", m, m.Body.Reveal())
	}
	w2 := newWorld(t, 1, 30*day, 24*day)
	w2.chat.known = map[string]string{}
	if st := w2.sweep(w2.scheduler()); st.Reasons[expiry.ReasonUnmapped] != 1 {
		t.Fatalf("unmapped, no e-mail: %+v", st)
	}
}

// TestAnswer: the button starts the change flow for the user it was sent
// to, and for nobody else; through Answerers it is found next to another kind.
func TestAnswer(t *testing.T) {
	w := newWorld(t, 1, 30*day, 24*day)
	w.sweep(w.scheduler())
	dm := w.chat.dms()[0]
	ans := outreach.Answerers{otherKind{}, &expiry.Answers{Store: w.st, Audit: w.rec, Clock: w.clock}}
	ctx := context.Background()
	r, err := ans.Answer(ctx, dm.Notice.Ref, outreach.ActionChange, dm.To)
	if err != nil || r.Flow != "change" {
		t.Fatalf("Answer = %+v, %v; want the change flow", r, err)
	}
	for _, tc := range []struct {
		name, ref, action string
		who               outreach.Recipient
	}{
		{"someone else", dm.Notice.Ref, outreach.ActionChange, outreach.Recipient{Channel: "slack", User: "T1:Umallory"}},
		{"unknown ref", "nope", outreach.ActionChange, dm.To},
		{"other action", dm.Notice.Ref, outreach.ActionUnlock, dm.To},
	} {
		r, err := ans.Answer(ctx, tc.ref, tc.action, tc.who)
		if err != nil || r.Flow != "" || r.MessageID != outreach.MsgExpired {
			t.Errorf("%s: Answer = %+v, %v; want expired", tc.name, r, err)
		}
	}
}

// otherKind is another notice kind's Answerer (lockout's, say).
type otherKind struct{}

func (otherKind) Answer(context.Context, string, string, outreach.Recipient) (outreach.Reply, error) {
	return outreach.Reply{MessageID: outreach.MsgExpired}, nil
}

// TestThresholdsValidated: zero, negative and repeated thresholds are refused.
func TestThresholdsValidated(t *testing.T) {
	w := newWorld(t, 1, 30*day, 0)
	for _, th := range [][]time.Duration{{0}, {-day}, {7 * day, 7 * day}} {
		_, err := expiry.New(expiry.Options{Dir: w.dir, Store: w.st, Renderer: w.cat, Thresholds: th,
			Messengers: []outreach.DirectMessenger{w.chat}})
		if err == nil {
			t.Errorf("thresholds %v accepted", th)
		}
	}
}
