package flows_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/regulation"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store"
	storemem "github.com/resetbot/resetbot/core/store/memory"
	"github.com/resetbot/resetbot/core/store/redis"
	"github.com/resetbot/resetbot/flows"
	"github.com/resetbot/resetbot/internal/testserver"
)

// flakyStore is a memory store whose next commit, once armed, is lost the
// way an unacknowledged commit is lost in a Redis failover: the session is
// left as it was before the turn, the delivery is not recorded as done,
// and the turn is told the store is unavailable. Everything the step wrote
// by itself (a code's challenge record, a TOTP step) stays, as on a replica
// that had received those writes.
type flakyStore struct {
	turnStore
	mu    sync.Mutex
	armed bool
	lost  int
}

func (s *flakyStore) arm() { s.mu.Lock(); s.armed = true; s.mu.Unlock() }

// turnStore is a store that runs turns (memory, Redis).
type turnStore interface {
	store.Store
	store.Turns
}

// CommitTurn loses the commit when armed: the lease is released and the
// claim dropped (what the new master holds after the failover), nothing
// else is written.
func (s *flakyStore) CommitTurn(ctx context.Context, k store.TurnKeys, c store.Commit) error {
	s.mu.Lock()
	lose := s.armed
	s.armed = false
	s.mu.Unlock()
	if !lose {
		return s.turnStore.CommitTurn(ctx, k, c)
	}
	s.lost++
	if err := s.turnStore.CommitTurn(ctx, k, store.Commit{Op: store.SessionKeep}); err != nil {
		return err
	}
	return fmt.Errorf("test: replica acknowledgement: %w", store.ErrUnavailable)
}

// deliver runs one turn as a platform delivery with the given ID.
func (h *harness) deliver(channel, user, id string, in engine.Input) engine.Reply {
	h.t.Helper()
	r := h.eng.Handle(context.Background(), engine.Turn{Channel: channel, ChannelUser: user, DeliveryID: id, Input: in})
	h.lines = append(h.lines, "> "+describe(in)+" #"+id)
	for _, o := range r.Outputs {
		h.lines = append(h.lines, "< "+render(o))
	}
	h.lines = append(h.lines, fmt.Sprintf("= %s/%s ended=%v retry=%v", r.Flow, r.State, r.Ended, r.Retry))
	return r
}

// lostThenRedelivered delivers in with its commit lost, checks the platform
// is asked to redeliver, then after wait redelivers the same delivery and
// returns its reply.
func (h *harness) lostThenRedelivered(fs *flakyStore, wait time.Duration, channel, user, id string, in engine.Input) engine.Reply {
	h.t.Helper()
	fs.arm()
	if r := h.deliver(channel, user, id, in); !r.Retry {
		h.t.Fatalf("delivery %s with its commit lost: retry=%v, want a redelivery asked", id, r.Retry)
	}
	h.advance(wait)
	r := h.deliver(channel, user, id, in)
	if r.Retry {
		h.t.Fatalf("redelivery of %s asked for another retry", id)
	}
	return r
}

// sent counts the outbox messages carrying a one-time code.
func (h *harness) sent() map[string]int {
	n := map[string]int{}
	for _, m := range h.box.Messages() {
		if len(m.Message.Summary) > 4 && m.Message.Summary[:4] == "otp." {
			n[string(m.Channel)]++
		}
	}
	return n
}

// TestRetriedSendSendsOnce: a turn whose code went out but whose commit was
// lost in a failover is redelivered by the platform (Slack's retries come
// after a minute, past the resend cooldown); the redelivery sends
// no second code, and the person finishes with the code they got. The turn
// that checks the SMS code and sends the email code at once is cut the same
// way: the SMS code is still right for its redelivery and the email code is
// sent once.
func TestRetriedSendSendsOnce(t *testing.T) {
	for name, open := range map[string]func(*testing.T) turnStore{
		"memory": func(*testing.T) turnStore { return storemem.New() },
		"redis": func(t *testing.T) turnStore {
			s, err := redis.Open(context.Background(), redis.Config{Addrs: []string{testserver.Redis(t)}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		},
	} {
		t.Run(name, func(t *testing.T) { retriedChange(t, &flakyStore{turnStore: open(t)}) })
	}
}

// retriedChange plays TestRetriedSendSendsOnce on fs.
func retriedChange(t *testing.T, fs *flakyStore) {
	h := newHarnessOn(t, fs, func(d *flows.Deps) { d.Counters = fs })
	h.deliver("slack", "U1", "Ev1", choice("flow:"+flows.FlowChange))
	h.deliver("slack", "U1", "Ev2", text("amartin"))
	r := h.lostThenRedelivered(fs, time.Minute, "slack", "U1", "Ev3", choice("sms"))
	if got := h.sent(); got["sms"] != 1 || len(got) != 1 {
		t.Fatalf("after the redelivered sms choice: codes sent %v, want one sms", got)
	}
	if r.State != "verify_factor" {
		t.Fatalf("redelivered sms choice ended in %s, want the code asked", r.State)
	}
	r = h.lostThenRedelivered(fs, time.Minute, "slack", "U1", "Ev4", text(h.code()))
	if got := h.sent(); got["sms"] != 1 || got["email"] != 1 {
		t.Fatalf("after the redelivered sms code: codes sent %v, want one sms and one email", got)
	}
	r = h.deliver("slack", "U1", "Ev5", text(h.code()))
	if r.State != "change_password" {
		t.Fatalf("with the only codes sent the change is in %s, want the password form", r.State)
	}
	// The password set, then the commit lost: the redelivery is not
	// refused by the directory's history (the password it just set), and
	// the owner is noticed once.
	const pw = "Orchid-Canyon-Drift-5"
	h.secrets = append(h.secrets, pw)
	r = h.lostThenRedelivered(fs, time.Minute, "slack", "U1", "Ev6", masked(pw, pw))
	if r.State != "done" || !r.Ended {
		t.Fatalf("redelivered password change ended in %s %v, want done", r.State, r.Outputs)
	}
	if !h.dir.Bind(context.Background(), "amartin", secret.New(pw)) {
		t.Fatal("the new password does not bind")
	}
	assertNoticed(t, h, "notice.change", "sms:+15555550101", "email:alice@personal.example", "chat:alice.martin@demo.example")
	if n := countDone(h, "change.done"); n != 1 {
		t.Fatalf("%d successful change.done records, want 1", n)
	}
	if fs.lost != 3 {
		t.Fatalf("%d commits lost, want 3", fs.lost)
	}
	h.assertNoLeaks()
}

// countDone counts the successful audit records named name.
func countDone(h *harness, name string) int {
	n := 0
	for _, e := range h.rec.Events() {
		if e.Name == name && e.Outcome == "success" {
			n++
		}
	}
	return n
}

// TestRetriedUnlockUnlocksOnce: the unlock done, then the commit lost: the
// redelivery ends done without unlocking again, counting the daily unlock
// cap again, or noticing the owner twice.
func TestRetriedUnlockUnlocksOnce(t *testing.T) {
	fs := &flakyStore{turnStore: storemem.New()}
	h := newHarnessOn(t, fs, func(d *flows.Deps) { d.Counters = fs; d.Policy.MaxUnlocksPerDay = 1 })
	h.deliver("teams", "A1", "a1", start(flows.FlowUnlock))
	h.deliver("teams", "A1", "a2", text("chiara.rossi@demo.example"))
	h.deliver("teams", "A1", "a3", choice("voice"))
	r := h.lostThenRedelivered(fs, time.Minute, "teams", "A1", "a4", digits(h.code()))
	if r.State != "done" {
		t.Fatalf("redelivered unlock ended in %s %v, want done", r.State, r.Outputs)
	}
	if st, err := h.dir.Status(context.Background(), mustFind(t, h, "crossi")); err != nil || st.Locked {
		t.Fatalf("still locked (%v)", err)
	}
	if n := countDone(h, "unlock.done"); n != 1 {
		t.Fatalf("%d successful unlock.done records, want 1", n)
	}
	notices := map[string]int{}
	for _, m := range h.box.Messages() {
		if m.Message.Summary == "notice.unlock" {
			notices[string(m.Channel)+":"+m.Message.To]++
		}
	}
	if len(notices) == 0 {
		t.Fatal("the owner was not noticed of the unlock")
	}
	for to, n := range notices {
		if n != 1 {
			t.Fatalf("unlock noticed %d times to %s, want once", n, to)
		}
	}
	h.assertNoLeaks()
}

// TestRetriedPassphraseSentOnce: on the phone the reset sets and texts a
// generated passphrase; with that turn's commit lost, the redelivery sets
// no second passphrase and texts nothing again, and the first one works.
func TestRetriedPassphraseSentOnce(t *testing.T) {
	fs := &flakyStore{turnStore: storemem.New()}
	h := newHarnessOn(t, fs, func(d *flows.Deps) { d.Counters = fs })
	h.deliver("voice", "CA1", "CA1:1", digits("1")) // menu: reset
	h.deliver("voice", "CA1", "CA1:2", digits("10041"))
	h.deliver("voice", "CA1", "CA1:3", digits("2")) // sms
	h.deliver("voice", "CA1", "CA1:4", digits(h.code()))
	r := h.lostThenRedelivered(fs, 5*time.Second, "voice", "CA1", "CA1:5", digits(h.code()))
	if r.State != "done" {
		t.Fatalf("redelivered reset ended in %s %v, want done", r.State, r.Outputs)
	}
	var pass []string
	for _, m := range h.box.Messages() {
		if m.Message.Summary == "sms.passphrase" {
			pass = append(pass, strings.Fields(strings.TrimPrefix(m.Message.Body.Reveal(), "Your temporary password is:"))[0])
		}
	}
	if len(pass) != 1 {
		t.Fatalf("%d passphrases texted, want 1", len(pass))
	}
	h.secrets = append(h.secrets, pass[0])
	if !h.dir.Bind(context.Background(), "amartin", secret.New(pass[0])) {
		t.Fatal("the passphrase texted does not bind")
	}
	assertNoticed(t, h, "notice.reset", "sms:+15555550101", "email:alice@personal.example", "chat:alice.martin@demo.example")
	h.assertNoLeaks()
}

// TestRetriedAuthenticatorCode: the turn that accepted an authenticator
// code (and sent the second factor at once) has its commit lost; its
// redelivery, 20 s later within the same time step, is verified again, not
// taken for a replay (no replay audit, no notice to the owner), and sends
// no second SMS. Another delivery of the same code is still a replay.
func TestRetriedAuthenticatorCode(t *testing.T) {
	fs := &flakyStore{turnStore: storemem.New()}
	h := newHarnessOn(t, fs)
	seed := enrollApp(t, h, "amartin")
	h.advance(30 * time.Second) // past the step the enrollment used
	h.deliver("slack", "U1", "Ev1", start(flows.FlowReset))
	h.deliver("slack", "U1", "Ev2", text("amartin"))
	c := h.totpCode(seed)
	r := h.lostThenRedelivered(fs, 20*time.Second, "slack", "U1", "Ev3", text(c))
	if r.State != "verify_factor" || r.Last().MessageID != "code.sent_to" {
		t.Fatalf("redelivered authenticator code: %s %v, want the second factor asked", r.State, r.Outputs)
	}
	if n := len(h.rec.Find("totp.replay")); n != 0 {
		t.Fatalf("the redelivery was audited as %d replays", n)
	}
	if got := h.sent(); got["sms"] != 1 || len(got) != 1 {
		t.Fatalf("codes sent %v, want one sms", got)
	}
	for _, m := range h.box.Messages() {
		if m.Message.Summary == "notice.totp_replay" {
			t.Fatal("the owner was told of a replay for a redelivery")
		}
	}
	// The same code in another delivery (another conversation) is a replay.
	h.deliver("voice", "CA1", "CA1:1", start(flows.FlowReset))
	h.deliver("voice", "CA1", "CA1:2", digits("10041"))
	if r := h.deliver("voice", "CA1", "CA1:3", digits(c)); r.State != "verify_factor" || len(h.rec.Find("totp.replay")) != 1 {
		t.Fatalf("another delivery of the code: %s, %d replays audited; want a replay", r.State, len(h.rec.Find("totp.replay")))
	}
	h.assertNoLeaks()
}

// TestRetriedResetNotRefused: the chat reset's password set, then the
// commit lost: the redelivery ends done (not refused by the directory's
// history), noticed and audited once.
func TestRetriedResetNotRefused(t *testing.T) {
	fs := &flakyStore{turnStore: storemem.New()}
	h := newHarnessOn(t, fs, func(d *flows.Deps) { d.Counters = fs })
	h.deliver("slack", "U1", "Ev1", start(flows.FlowReset))
	h.deliver("slack", "U1", "Ev2", text("amartin"))
	h.deliver("slack", "U1", "Ev3", choice("sms"))
	h.deliver("slack", "U1", "Ev4", text(h.code()))
	if r := h.deliver("slack", "U1", "Ev5", text(h.code())); r.State != "new_password" {
		t.Fatalf("reset in %s %v, want the password form", r.State, r.Outputs)
	}
	const pw = "Harbor-Juniper-Comet-4"
	h.secrets = append(h.secrets, pw)
	r := h.lostThenRedelivered(fs, time.Minute, "slack", "U1", "Ev6", masked(pw, pw))
	if r.State != "done" || r.Outputs[0].MessageID != "reset.done" {
		t.Fatalf("redelivered reset ended in %s %v, want done", r.State, r.Outputs)
	}
	if !h.dir.Bind(context.Background(), "amartin", secret.New(pw)) {
		t.Fatal("the new password does not bind")
	}
	assertNoticed(t, h, "notice.reset", "sms:+15555550101", "email:alice@personal.example", "chat:alice.martin@demo.example")
	if n := countDone(h, "reset.done"); n != 1 {
		t.Fatalf("%d successful reset.done records, want 1", n)
	}
	h.assertNoLeaks()
}

// TestRetriedEnrollmentConfirm: the turn that confirmed a new
// authenticator has its commit lost; its redelivery ends the enrollment
// done, instead of showing a new QR code for an app already set up, and
// the owner is noticed once.
func TestRetriedEnrollmentConfirm(t *testing.T) {
	fs := &flakyStore{turnStore: storemem.New()}
	h := newHarnessOn(t, fs, func(d *flows.Deps) { d.Counters = fs })
	h.deliver("slack", "U5", "Ev1", start(flows.FlowEnroll))
	h.deliver("slack", "U5", "Ev2", text("fhaddad"))
	h.deliver("slack", "U5", "Ev3", choice("sms"))
	h.deliver("slack", "U5", "Ev4", text(h.code()))
	r := h.deliver("slack", "U5", "Ev5", text(h.code()))
	var seed string
	for _, o := range r.Outputs {
		if o.Attachment != nil {
			seed = o.Attachment.Text.Reveal()
		}
	}
	if seed == "" {
		t.Fatalf("no enrollment attachment: %s %v", r.State, r.Outputs)
	}
	r = h.lostThenRedelivered(fs, 10*time.Second, "slack", "U5", "Ev6", text(h.totpCode(seed)))
	if r.State != "done" {
		t.Fatalf("redelivered confirmation ended in %s %v, want done", r.State, r.Outputs)
	}
	var notices int
	for _, m := range h.box.Messages() {
		if m.Message.Summary == "notice.enroll" && m.Channel == "sms" {
			notices++
		}
	}
	if notices != 1 {
		t.Fatalf("%d enrollment notices by SMS, want 1", notices)
	}
	if n := countDone(h, "enroll.done"); n != 1 {
		t.Fatalf("%d successful enroll.done records, want 1", n)
	}
	h.assertNoLeaks()
}

// TestRetriedSendSpendsBudgetOnce: with one SMS per destination per hour,
// the send whose commit was lost spent it; its redelivery asks for the
// code it sent instead of refusing "too many codes", and the person
// finishes with it.
func TestRetriedSendSpendsBudgetOnce(t *testing.T) {
	fs := &flakyStore{turnStore: storemem.New()}
	h := newHarnessOn(t, fs, func(d *flows.Deps) {
		d.Counters = fs
		reg, err := regulation.New(fs, bytes.Repeat([]byte{5}, 32), regulation.Limits{},
			regulation.SendLimits{PerDestinationPerHour: 1}, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		d.Regulator = reg
	})
	h.deliver("slack", "U1", "Ev1", start(flows.FlowReset))
	h.deliver("slack", "U1", "Ev2", text("amartin"))
	r := h.lostThenRedelivered(fs, time.Minute, "slack", "U1", "Ev3", choice("sms"))
	for _, o := range r.Outputs {
		if o.MessageID == "code.limit" {
			t.Fatalf("redelivered send refused by the budget its first try spent: %v", r.Outputs)
		}
	}
	if got := h.sent(); got["sms"] != 1 {
		t.Fatalf("codes sent %v, want one sms", got)
	}
	if r := h.deliver("slack", "U1", "Ev4", text(h.code())); r.State != "verify_factor" || r.Last().MessageID != "code.sent_to" {
		t.Fatalf("the code sent once: %s %v, want it verified and the email sent", r.State, r.Outputs)
	}
	// Another delivery asking for an SMS to the number is still held to the
	// budget.
	h.deliver("slack", "U2", "Ev5", start(flows.FlowReset))
	h.deliver("slack", "U2", "Ev6", text("amartin"))
	if r := h.deliver("slack", "U2", "Ev7", choice("sms")); r.Outputs[0].MessageID != "code.limit" {
		t.Fatalf("another SMS past the budget: %v, want code.limit", r.Outputs)
	}
}
