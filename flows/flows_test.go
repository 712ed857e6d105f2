package flows_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/secret"
	storemem "github.com/resetbot/resetbot/core/store/memory"
	"github.com/resetbot/resetbot/flows"
)

const alice = "uid=amartin,ou=people,dc=demo,dc=example"

func TestChatResetWithTwoFactors(t *testing.T) {
	h := newHarness(t)
	h.send("slack", "U1", text("I forgot my password"))
	h.send("slack", "U1", text("amartin"))
	h.send("slack", "U1", choice("sms"))
	h.send("slack", "U1", text(h.code())) // the email code is sent at once
	h.send("slack", "U1", text(h.code()))
	h.send("slack", "U1", text("Correct-Horse-Battery-9"))       // typed in the chat: refused
	h.send("slack", "U1", masked("Sh0rt-pw", "Sh0rt-pw"))        // policy
	h.send("slack", "U1", masked("Lantern-Violet-Ocean-7", "x")) // mismatch
	r := h.send("slack", "U1", masked("Lantern-Violet-Ocean-7", "Lantern-Violet-Ocean-7"))
	if r.State != "done" || r.Ended || r.Last().MessageID != engine.MsgRateAsk {
		t.Fatalf("ended in %s", r.State)
	}
	ctx := context.Background()
	if !h.dir.Bind(ctx, "amartin", secret.New("Lantern-Violet-Ocean-7")) || h.dir.Bind(ctx, "amartin", secret.New("Winter-Garden-42")) {
		t.Fatal("new password does not bind, or the old one still does")
	}
	assertNoticed(t, h, "notice.reset", "sms:+15555550101", "email:alice@personal.example", "chat:alice.martin@demo.example")
	h.secrets = append(h.secrets, "Lantern-Violet-Ocean-7", "Correct-Horse-Battery-9")
	h.assertNoLeaks()
	h.golden("chat_reset")
}

func TestChatUnlock(t *testing.T) {
	h := newHarness(t)
	h.send("teams", "A1", start(flows.FlowUnlock))
	h.send("teams", "A1", text("chiara.rossi@demo.example"))
	h.send("teams", "A1", choice("voice"))
	r := h.send("teams", "A1", digits(h.code()))
	if r.State != "done" {
		t.Fatalf("ended in %s", r.State)
	}
	st, err := h.dir.Status(context.Background(), mustFind(t, h, "crossi"))
	if err != nil || st.Locked {
		t.Fatalf("still locked (%v)", err)
	}
	h.assertNoLeaks()
	h.golden("chat_unlock")
}

func TestPhoneResetSendsPassphrase(t *testing.T) {
	h := newHarness(t)
	h.send("voice", "CA1", digits("1")) // menu: reset
	h.send("voice", "CA1", digits("10041"))
	h.send("voice", "CA1", digits("2"))      // sms
	h.send("voice", "CA1", digits(h.code())) // the email code is sent at once
	r := h.send("voice", "CA1", digits(h.code()))
	if r.State != "done" {
		t.Fatalf("ended in %s", r.State)
	}
	msgs := h.box.Messages()
	pass := msgs[len(msgs)-4]
	if pass.Message.Summary != "sms.passphrase" {
		t.Fatalf("outbox order: %s", pass.Message.Summary)
	}
	assertNoticed(t, h, "notice.reset", "sms:+15555550101", "email:alice@personal.example", "chat:alice.martin@demo.example")
	pw := strings.Fields(strings.TrimPrefix(pass.Message.Body.Reveal(), "Your temporary password is:"))[0]
	h.secrets = append(h.secrets, pw)
	if !h.dir.Bind(context.Background(), "amartin", secret.New(pw)) || !h.dir.MustChange(alice) {
		t.Fatal("passphrase not set as a must-change password")
	}
	h.assertNoLeaks()
	h.golden("phone_reset")
}

// TestUnknownUserLooksLikeWrongCode proves the no-enumeration rule: an
// unknown login and a real user with a wrong code see the same messages.
func TestUnknownUserLooksLikeWrongCode(t *testing.T) {
	run := func(login string) string {
		h := newHarness(t)
		h.send("slack", "U9", start(flows.FlowReset))
		h.send("slack", "U9", text(login))
		h.send("slack", "U9", choice("sms"))
		h.send("slack", "U9", text("000000"))
		h.send("slack", "U9", choice(engine.ChoiceEscalate))
		var out []string
		for _, l := range h.lines {
			if !strings.HasPrefix(l, "> ") {
				out = append(out, l)
			}
		}
		return strings.Join(out, "\n")
	}
	known, unknown, noPhone := run("amartin"), run("nobody-here"), run("no.such@demo.example")
	if known != unknown || known != noPhone {
		t.Fatalf("replies differ:\nknown:\n%s\nunknown:\n%s", known, unknown)
	}
}

func TestPreflightTellsWhatToDo(t *testing.T) {
	cases := []struct {
		login, flow, want, state string
	}{
		{"dokafor", flows.FlowReset, "preflight.disabled", "blocked"},
		{"eadmin", flows.FlowReset, "preflight.protected", "escalated"},
		{"amartin", flows.FlowUnlock, "unlock.not_locked", "blocked"},
	}
	for _, tc := range cases {
		t.Run(tc.login+"/"+tc.flow, func(t *testing.T) {
			h := newHarness(t, func(d *flows.Deps) {
				d.Policy.Require[flows.FlowReset] = flows.Requirement{Default: 1}
				d.Policy.PhoneAlone = true
			})
			h.send("slack", "U2", start(tc.flow))
			h.send("slack", "U2", text(tc.login))
			h.send("slack", "U2", choice("sms"))
			r := h.send("slack", "U2", text(h.code()))
			if r.State != tc.state || !strings.Contains(strings.Join(h.lines, "\n"), tc.want) {
				t.Fatalf("state %s; transcript:\n%s", r.State, strings.Join(h.lines, "\n"))
			}
		})
	}
}

func TestWrongCodesLockOut(t *testing.T) {
	h := newHarness(t)
	h.send("slack", "U3", start(flows.FlowReset))
	h.send("slack", "U3", text("bnguyen")) // the authenticator is asked at once
	var r engine.Reply
	for i := 0; i < 5; i++ {
		r = h.send("slack", "U3", text("123456"))
	}
	if r.State != "locked_out" || len(h.rec.Find("escalation")) != 1 {
		t.Fatalf("state %s after 5 wrong codes; audit %v", r.State, h.rec.Names())
	}
	// Five wrong codes throttle whoever sent them, not the account: the
	// owner, in another conversation, verifies with the right code (a
	// stranger cannot lock the owner out with a handful of lies).
	h.send("slack", "U4", start(flows.FlowReset))
	h.send("slack", "U4", text("bao.nguyen@demo.example"))
	h.send("slack", "U4", choice("sms"))
	if r := h.send("slack", "U4", text(h.code())); r.State != "verify_factor" {
		t.Fatalf("owner after a stranger's five wrong codes: %s %v", r.State, r.Outputs)
	}
	// The stranger's identity stays throttled.
	h.send("slack", "U3", start(flows.FlowReset))
	if r := h.send("slack", "U3", text("bnguyen")); r.State != "locked_out" {
		t.Fatalf("throttled identity looked up an account: %s", r.State)
	}
	h.golden("lockout")
}

func TestEnrollThenResetWithApp(t *testing.T) {
	h := newHarness(t)
	h.send("slack", "U5", start(flows.FlowEnroll))
	h.send("slack", "U5", text("fhaddad"))
	// Binding a factor needs what a reset needs: two here.
	h.send("slack", "U5", choice("sms"))
	if r := h.send("slack", "U5", text(h.code())); r.State != "verify_factor" {
		t.Fatalf("enrolled after one factor: %s", r.State)
	}
	r := h.send("slack", "U5", text(h.code()))
	var seed string
	for _, o := range r.Outputs {
		if o.Attachment != nil {
			seed = o.Attachment.Text.Reveal()
			if len(o.Attachment.PNG) == 0 || !o.Sensitive {
				t.Fatal("QR missing or not marked sensitive")
			}
		}
	}
	if seed == "" {
		t.Fatal("no enrollment attachment")
	}
	h.send("slack", "U5", text("000000")) // wrong confirmation
	if r := h.send("slack", "U5", text(h.totpCode(seed))); r.State != "done" {
		t.Fatalf("enroll ended in %s", r.State)
	}
	h.advance(time.Minute)
	h.send("slack", "U5", start(flows.FlowReset))
	h.send("slack", "U5", text("fhaddad"))
	h.send("slack", "U5", text(h.totpCode(seed))) // asked at once
	h.send("slack", "U5", text(h.code()))         // the text message is sent at once
	if r := h.send("slack", "U5", masked("Pebble-Quartz-Anchor-5", "Pebble-Quartz-Anchor-5")); r.State != "done" {
		t.Fatalf("reset ended in %s", r.State)
	}
	h.secrets = append(h.secrets, "Pebble-Quartz-Anchor-5")
	h.assertNoLeaks()
	h.golden("enroll_then_reset")
}

func TestTOTPCodeAcceptedOnce(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	en, err := h.totp.Begin(ctx, "demo:"+alice, "amartin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.totp.Confirm(ctx, "demo:"+alice, secret.New(h.totpCode(en.Secret.Reveal()))); err != nil {
		t.Fatal(err)
	}
	h.advance(30 * time.Second)
	c := h.totpCode(en.Secret.Reveal())
	for _, ch := range []string{"slack", "voice"} {
		h.send(ch, "X", start(flows.FlowUnlock))
	}
	h.send("slack", "X", text("amartin"))
	h.send("voice", "X", digits("10041"))
	first := h.send("slack", "X", text(c))
	second := h.send("voice", "X", digits(c))
	if first.State != "blocked" || second.State != "verify_factor" {
		// alice is not locked, so a verified unlock ends "not locked" (blocked).
		t.Fatalf("first %s, second %s", first.State, second.State)
	}
	if len(h.rec.Find("totp.replay")) != 1 {
		t.Fatalf("replay not audited: %v", h.rec.Names())
	}
	if last, _ := h.box.Last(); last.Message.Summary != "notice.totp_replay" {
		t.Fatalf("owner not told of the replay: %s", last.Message.Summary)
	}
}

func TestStaleVerificationIsRedone(t *testing.T) {
	h := newHarness(t, func(d *flows.Deps) {
		d.Policy.Require[flows.FlowReset] = flows.Requirement{Default: 1}
		d.Policy.PhoneAlone = true
	})
	h.send("slack", "U6", start(flows.FlowReset))
	h.send("slack", "U6", text("amartin"))
	h.send("slack", "U6", choice("sms"))
	h.send("slack", "U6", text(h.code()))
	h.advance(11 * time.Minute)
	r := h.send("slack", "U6", masked("Lantern-Violet-Ocean-7", "Lantern-Violet-Ocean-7"))
	if r.State != "verify_factor" || r.Last().MessageID != "code.prompt.sms" {
		// A new code by the method used last is sent at once.
		t.Fatalf("state %s, want verify_factor with a new text message", r.State)
	}
	if h.dir.Bind(context.Background(), "amartin", secret.New("Lantern-Violet-Ocean-7")) {
		t.Fatal("password changed after verification went stale")
	}
}

func TestFlowTablesAreValid(t *testing.T) {
	h := newHarness(t)
	for _, f := range h.eng.Flows() {
		if err := f.Validate(); err != nil {
			t.Error(err)
		}
	}
}

func mustFind(t *testing.T, h *harness, login string) (u directoryUser) {
	t.Helper()
	users, err := h.dir.Find(context.Background(), "login", login)
	if err != nil || len(users) != 1 {
		t.Fatalf("find %s: %v %d", login, err, len(users))
	}
	users[0].Directory = "demo"
	return users[0]
}

// TestEnumerationEdges: five wrong codes, and the send budget across
// conversations, look the same for a real account, an unknown login and an
// account without the destination.
func TestEnumerationEdges(t *testing.T) {
	outputs := func(h *harness) string {
		var out []string
		for _, l := range h.lines {
			if !strings.HasPrefix(l, "> ") {
				out = append(out, l)
			}
		}
		return strings.Join(out, "\n")
	}
	wrongCodes := func(login string) string {
		h := newHarness(t)
		h.send("slack", "U30", start(flows.FlowUnlock))
		h.send("slack", "U30", text(login))
		h.send("slack", "U30", choice("sms"))
		for i := 0; i < 6; i++ {
			h.send("slack", "U30", text("000001"))
		}
		return outputs(h)
	}
	budget := func(login string) string {
		h := newHarness(t)
		for i := 0; i < 5; i++ {
			u := "U4" + strconv.Itoa(i)
			h.send("slack", u, start(flows.FlowReset))
			h.send("slack", u, text(login))
			h.send("slack", u, choice("sms"))
		}
		return outputs(h)
	}
	for name, run := range map[string]func(string) string{"wrong codes": wrongCodes, "send budget": budget} {
		known, unknown := run("amartin"), run("nobody-at-all")
		if known != unknown {
			t.Errorf("%s: replies differ\nknown:\n%s\nunknown:\n%s", name, known, unknown)
		}
	}
}

// TestEnrollCannotLowerTheBar: enrolling needs a reset's factors, and
// replacing an authenticator app needs that app — codes by SMS and email
// cannot swap it for an attacker's.
func TestEnrollCannotLowerTheBar(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	key := "demo:uid=bnguyen,ou=people,dc=demo,dc=example"
	en, err := h.totp.Begin(ctx, key, "bnguyen")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.totp.Confirm(ctx, key, secret.New(h.totpCode(en.Secret.Reveal()))); err != nil {
		t.Fatal(err)
	}
	h.send("slack", "U31", start(flows.FlowEnroll))
	h.send("slack", "U31", text("bnguyen"))
	h.send("slack", "U31", choice("sms"))
	r := h.send("slack", "U31", text(h.code()))
	// The policy asks for the strongest factor of record: only the app (or
	// the help desk) is asked for now, and email is not accepted instead.
	if r.State != "verify_factor" || r.Outputs[0].MessageID != "verify.need_strongest" ||
		r.Last().MessageID != "totp.prompt" || len(r.Last().Expect.Choices) != 1 || r.Last().Expect.Choices[0].ID != "none" {
		t.Fatalf("replaced the app without it: %s %v", r.State, r.Outputs)
	}
	if r = h.send("slack", "U31", choice("email")); r.State != "verify_factor" || r.Outputs[0].MessageID != engine.MsgBadChoice {
		t.Fatalf("email instead of the app: %s %v", r.State, r.Outputs)
	}
	// With the app among the factors, it can be replaced.
	h.advance(time.Minute)
	h.send("slack", "U32", start(flows.FlowEnroll))
	h.send("slack", "U32", text("bnguyen"))
	h.send("slack", "U32", text(h.totpCode(en.Secret.Reveal())))
	if r := h.send("slack", "U32", text(h.code())); r.State != "enroll_totp" {
		t.Fatalf("with the app: %s", r.State)
	}
}

func TestUnlockCap(t *testing.T) {
	st := storemem.New()
	h := newHarnessOn(t, st, func(d *flows.Deps) { d.Counters = st })
	ctx := context.Background()
	for i := 0; i < 4; i++ {
		u := "U5" + strconv.Itoa(i)
		h.dir.Lock("uid=crossi,ou=people,dc=demo,dc=example")
		h.send("slack", u, start(flows.FlowUnlock))
		h.send("slack", u, text("crossi"))
		// Spread over factors: the send budget per number is 3 an hour.
		h.send("slack", u, choice([]string{"sms", "email", "voice", "email"}[i]))
		r := h.send("slack", u, text(h.code()))
		want := "done"
		if i == 3 {
			want = "escalated"
		}
		if r.State != want {
			t.Fatalf("unlock %d: %s", i+1, r.State)
		}
	}
	if st, _ := h.dir.Status(ctx, mustFind(t, h, "crossi")); !st.Locked {
		t.Fatal("the fourth unlock in a day went through")
	}
}

// TestCallerThrottledAcrossCalls: every call has a new CallSid; the caller's
// number ties the attempts together, so hanging up and calling again does
// not reset the count.
func TestCallerThrottledAcrossCalls(t *testing.T) {
	h := newHarness(t)
	call := func(sid, digits string) engine.Reply {
		return h.eng.Handle(context.Background(), engine.Turn{Channel: "voice", ChannelUser: sid,
			Hints: engine.Hints{Phone: "+15550009999"}, Input: engine.Input{Kind: engine.InputDigits, Value: secret.New(digits)}})
	}
	locked := 0
	for i, sid := range []string{"CA1", "CA2", "CA3"} {
		call(sid, "1")
		call(sid, []string{"10041", "10057", "10088"}[i]) // a different account each call
		for _, code := range []string{"111111", "222222"} {
			if r := call(sid, code); r.State == "locked_out" {
				locked = i*2 + 1
			}
		}
	}
	if locked == 0 {
		t.Fatal("six wrong codes over three calls from one number were never stopped")
	}
}

// assertNoticed checks that notice id went to exactly the destinations want
// ("channel:address"): every channel of record, never only the one used.
func assertNoticed(t *testing.T, h *harness, id string, want ...string) {
	t.Helper()
	var got []string
	for _, m := range h.box.Messages() {
		if m.Message.Summary == id {
			got = append(got, string(m.Channel)+":"+m.Message.To)
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%s went to %v, want %v", id, got, want)
	}
}
