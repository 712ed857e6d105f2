package flows_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/regulation"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store"
	"github.com/resetbot/resetbot/core/store/redis"
	"github.com/resetbot/resetbot/flows"
	"github.com/resetbot/resetbot/internal/testserver"
)

// replies is the transcript without the person's own turns.
func replies(lines []string) string {
	var out []string
	for _, l := range lines {
		if !strings.HasPrefix(l, "> ") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// enrollApp gives login an authenticator app and returns its seed.
func enrollApp(t *testing.T, h *harness, login string) string {
	t.Helper()
	ctx := context.Background()
	key := "demo:uid=" + login + ",ou=people,dc=demo,dc=example"
	en, err := h.totp.Begin(ctx, key, login)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.totp.Confirm(ctx, key, secret.New(h.totpCode(en.Secret.Reveal()))); err != nil {
		t.Fatal(err)
	}
	h.advance(30 * time.Second)
	return en.Secret.Reveal()
}

// guessApp plays one stranger (chat identity user) sending wrong
// authenticator codes for login until the conversation ends.
func guessApp(h *harness, user, login string, n int) engine.Reply {
	h.send("slack", user, start(flows.FlowReset))
	h.send("slack", user, text(login))
	var r engine.Reply
	for range n {
		if r = h.send("slack", user, text("000000")); r.Ended {
			break
		}
	}
	return r
}

// TestPausedAccountToldTruth: strangers pause the account's authenticator
// factor after AccountMaxFailures wrong codes (each stranger's own identity
// is throttled after five); the owner is warned once; the owner with a
// right code is told "paused until 07:15" — not "that did not work" — and
// an unknown login, also in another form of it, gets exactly the same.
func TestPausedAccountToldTruth(t *testing.T) {
	run := func(login, alias string) (*harness, string) {
		h := newHarness(t)
		seed := enrollApp(t, h, "bnguyen")
		h.lines = nil
		if r := guessApp(h, "U60", login, 10); r.State != "locked_out" || r.Outputs[0].MessageID != "regulation.denied" {
			t.Fatalf("stranger 1 after five wrong codes: %s %v", r.State, r.Outputs)
		}
		if r := guessApp(h, "U61", login, 5); r.Outputs[0].MessageID != "regulation.paused" {
			t.Fatalf("the failure that paused the account: %s %v", r.State, r.Outputs)
		}
		guessApp(h, "U64", alias, 1)
		// The owner, with the right code.
		h.send("slack", "U62", start(flows.FlowReset))
		h.send("slack", "U62", text(login))
		r := h.send("slack", "U62", text(h.totpCode(seed)))
		if r.State != "locked_out" || r.Outputs[0].MessageID != "regulation.paused" || r.Outputs[0].Args["until"] != "07:15" {
			t.Fatalf("%s with the right code during the pause: %s %v", login, r.State, r.Outputs)
		}
		// The other factors are not paused.
		h.send("slack", "U63", start(flows.FlowReset))
		h.send("slack", "U63", text(login))
		h.send("slack", "U63", choice("sms"))
		return h, replies(h.lines)
	}
	known, knownOut := run("bnguyen", "bnguyen@elsewhere.example")
	notices := 0
	for _, m := range known.box.Messages() {
		if m.Message.Summary == "notice.attack" {
			notices++
		}
	}
	if notices != 3 || len(known.rec.Find(flows.NameAttackNotice)) != 1 {
		t.Fatalf("owner warned by %d messages (want SMS, personal email and chat, once), audit %v", notices, known.rec.Names())
	}
	_, unknownOut := run("nobody-here", "NOBODY-HERE@demo.example")
	if knownOut != unknownOut {
		t.Fatalf("replies differ\nknown:\n%s\nunknown:\n%s", knownOut, unknownOut)
	}
	known.golden("paused")
}

// TestPauseEndsByItself: the pause ends by itself, and the first code after
// it is checked at once.
func TestPauseEndsByItself(t *testing.T) {
	h := newHarness(t)
	seed := enrollApp(t, h, "bnguyen")
	guessApp(h, "U70", "bnguyen", 5)
	guessApp(h, "U71", "bnguyen", 5)
	h.advance(15 * time.Minute)
	h.send("slack", "U72", start(flows.FlowReset))
	h.send("slack", "U72", text("bnguyen"))
	if r := h.send("slack", "U72", text(h.totpCode(seed))); r.State != "verify_factor" {
		t.Fatalf("after the pause: %s %v", r.State, r.Outputs)
	}
}

// TestAliasLinkTiming plays the alias-link attack: fail once with X, then
// once with another form of X from another identity. The delays must be the
// same whether or not X exists (they come from whoever is talking only).
func TestAliasLinkTiming(t *testing.T) {
	run := func(forms ...string) []time.Duration {
		h := newHarness(t)
		var slept []time.Duration
		for i, login := range forms {
			u := "U8" + string(rune('0'+i))
			h.send("slack", u, start(flows.FlowReset))
			h.send("slack", u, text(login))
			for range 2 {
				before := h.slept
				h.send("slack", u, text("000000"))
				slept = append(slept, (h.slept - before).Round(10*time.Millisecond))
			}
		}
		return slept
	}
	known := run("amartin", "alice.martin@demo.example", "AMARTIN@demo.example")
	unknown := run("nobody-here", "nobody.here@demo.example", "NOBODY-HERE@demo.example")
	if len(known) != 6 || known[0] == 0 {
		t.Fatalf("delays %v: the test measures nothing", known)
	}
	// The timing floor pads with real time, so a loaded machine moves a
	// delay by a few milliseconds; the oracle this guards against is a
	// step of the progressive delay (250 ms and up).
	for i := range known {
		if d := known[i] - unknown[i]; d > 100*time.Millisecond || d < -100*time.Millisecond {
			t.Fatalf("delays differ: known %v, unknown %v", known, unknown)
		}
	}
}

// TestSendBudgetOracle plays the send-budget attack: a real account's SMS
// and calls share its phone's budget; an unknown login's must too, and its
// alias forms share it as a real account's do.
func TestSendBudgetOracle(t *testing.T) {
	run := func(forms ...string) string {
		h := newHarness(t)
		for i, f := range []string{"sms", "voice", "sms", "voice"} {
			u := "U9" + string(rune('0'+i))
			h.send("slack", u, start(flows.FlowReset))
			h.send("slack", u, text(forms[i%len(forms)]))
			h.send("slack", u, choice(f))
		}
		return replies(h.lines)
	}
	known := run("amartin", "AMARTIN@demo.example")
	if !strings.Contains(known, "code.limit") {
		t.Fatalf("the fourth code to one phone was not refused:\n%s", known)
	}
	if unknown := run("nobody-here", "nobody-here@demo.example"); unknown != known {
		t.Fatalf("replies differ\nknown:\n%s\nunknown:\n%s", known, unknown)
	}
}

// TestPhoneWaitsStayShort: on the phone, no answer ever waits longer than a
// Twilio webhook can (delays stop at regulation.MaxDelay), and the first
// wrong code after a ban waits the first delay again, not the longest one.
func TestPhoneWaitsStayShort(t *testing.T) {
	h := newHarness(t)
	call := func() {
		h.send("voice", "C1", start(flows.FlowReset))
		h.send("voice", "C1", digits("10057")) // the authenticator is asked at once
	}
	wrong := func() (engine.Reply, time.Duration) {
		before := h.slept
		r := h.send("voice", "C1", digits("000000"))
		return r, h.slept - before
	}
	call()
	var longest time.Duration
	for i := 0; ; i++ {
		r, d := wrong()
		longest = max(longest, d)
		if r.Ended {
			if i != 4 {
				t.Fatalf("call ended after %d wrong codes", i+1)
			}
			break
		}
	}
	if longest > regulation.MaxDelay {
		t.Fatalf("a wrong code waited %v", longest)
	}
	h.advance(15 * time.Minute)
	call()
	if r, d := wrong(); r.Ended || d > regulation.DefaultDelayBase+10*time.Millisecond || d == 0 {
		t.Fatalf("first wrong code after the ban: waited %v, ended %v", d, r.Ended)
	}
}

// TestConcurrentGuessesThroughFlows plays the burst attack end to end: 60
// callers, each with its own conversation at the authenticator prompt of
// one account, send a guess at the same moment. At most the account's
// limit of guesses is checked, on memory and on a real redis-server.
func TestConcurrentGuessesThroughFlows(t *testing.T) {
	stores := map[string]func(t *testing.T) store.Store{
		"memory": func(*testing.T) store.Store { return nil },
		"redis": func(t *testing.T) store.Store {
			s, err := redis.Open(context.Background(), redis.Config{Addrs: []string{testserver.Redis(t)}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			h := newHarnessOn(t, open(t))
			enrollApp(t, h, "bnguyen")
			const n = 60
			for i := range n {
				u := fmt.Sprintf("caller-%02d", i)
				h.send("voice", u, start(flows.FlowReset))
				if r := h.send("voice", u, digits("10057")); r.State != "verify_factor" {
					t.Fatalf("%s at %s", u, r.State)
				}
			}
			before := len(h.rec.Find(audit.NameVerifyAttempt))
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					h.eng.Handle(context.Background(), engine.Turn{Channel: "voice", ChannelUser: fmt.Sprintf("caller-%02d", i),
						Input: digits("123456")})
				})
			}
			wg.Wait()
			checked := len(h.rec.Find(audit.NameVerifyAttempt)) - before
			t.Logf("%s: %d of %d guesses checked", name, checked, n)
			if checked == 0 || checked > regulation.DefaultAccountMaxFailures {
				t.Fatalf("%d guesses checked, limit %d", checked, regulation.DefaultAccountMaxFailures)
			}
		})
	}
}

// TestPausedFactorSendsNothing: choosing a paused phone factor tells the
// pause at once and sends no code (the owner is not handed a code that
// cannot be used).
func TestPausedFactorSendsNothing(t *testing.T) {
	h := newHarness(t)
	k := regulation.User("demo:uid=bnguyen,ou=people,dc=demo,dc=example").For("phone")
	for range regulation.DefaultAccountMaxFailures {
		if _, err := h.reg.Fail(context.Background(), k); err != nil {
			t.Fatal(err)
		}
	}
	sent := len(h.box.Messages())
	h.send("slack", "U40", start(flows.FlowReset))
	h.send("slack", "U40", text("bnguyen"))
	r := h.send("slack", "U40", choice("voice"))
	if r.State != "locked_out" || r.Outputs[0].MessageID != "regulation.paused" || len(h.box.Messages()) != sent {
		t.Fatalf("paused phone factor: %s %v, %d messages sent", r.State, r.Outputs, len(h.box.Messages())-sent)
	}
}

// TestEnrollConfirmationsThrottled: wrong confirmation codes of a new
// authenticator end the conversation like wrong verification codes.
func TestEnrollConfirmationsThrottled(t *testing.T) {
	h := newHarness(t)
	h.send("slack", "U41", start(flows.FlowEnroll))
	h.send("slack", "U41", text("fhaddad"))
	h.send("slack", "U41", choice("sms"))
	h.send("slack", "U41", text(h.code()))
	h.send("slack", "U41", choice("email"))
	if r := h.send("slack", "U41", text(h.code())); r.State != "enroll_totp" {
		t.Fatalf("state %s", r.State)
	}
	var r engine.Reply
	for range 6 {
		if r = h.send("slack", "U41", text("000000")); r.Ended {
			break
		}
	}
	if r.State != "locked_out" {
		t.Fatalf("after wrong confirmations: %s %v", r.State, r.Outputs)
	}
}
