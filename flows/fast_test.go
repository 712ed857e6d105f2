package flows_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/directory/memory"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/flows"
	"github.com/resetbot/resetbot/internal/transcript"
)

// aliceHints is what Slack or Teams would pass for Alice's chat identity.
var aliceHints = engine.Hints{Email: "alice.martin@demo.example"}

// TestFastResetWithMappedIdentity walks the four-action chat reset: the chat
// identity maps to amartin, so the bot starts at once for that account and
// asks for the authenticator; the second factor is sent as soon as the first
// passes and the prompt says where; one masked form takes the password. The
// number of factors is the policy's two, as without the mapping. Codes
// pasted with a space or a dash are accepted.
func TestFastResetWithMappedIdentity(t *testing.T) {
	h := newHarness(t)
	seed := enrollApp(t, h, "amartin")
	h.hints = aliceHints
	r := h.send("slack", "U1", start(flows.FlowReset))
	if r.Outputs[0].MessageID != "identify.as.reset" || r.Outputs[0].Args["login"] != "amartin" ||
		r.Last().MessageID != "totp.prompt" || !hasChoice(r, "other_account") || !hasChoice(r, "sms") {
		t.Fatalf("start: %s %v", r.State, r.Outputs)
	}
	c := h.totpCode(seed)
	r = h.send("slack", "U1", text(c[:3]+" "+c[3:]))
	if r.State != "verify_factor" || r.Last().MessageID != "code.sent_to" || r.Last().Args["to"] != "•••0101" {
		t.Fatalf("second factor not sent at once: %s %v", r.State, r.Outputs)
	}
	if hasChoice(r, "other_account") {
		t.Fatal("different account offered after a factor passed")
	}
	c = h.code()
	r = h.send("slack", "U1", text(c[:3]+"-"+c[3:]))
	if r.State != "new_password" || !r.Last().Expect.Confirm {
		t.Fatalf("password form: %s %v", r.State, r.Outputs)
	}
	if r = h.send("slack", "U1", masked("Lantern-Violet-Ocean-7", "Lantern-Violet-Ocean-7")); r.State != "done" {
		t.Fatalf("ended in %s", r.State)
	}
	if v := h.rec.Find("verify.attempt"); len(v) != 2 {
		t.Fatalf("%d verifications, want the policy's 2", len(v))
	}
	if !h.dir.Bind(context.Background(), "amartin", secret.New("Lantern-Violet-Ocean-7")) {
		t.Fatal("new password does not bind")
	}
	h.secrets = append(h.secrets, "Lantern-Violet-Ocean-7")
	h.assertNoLeaks()
	h.golden("fast_reset")
}

// TestFastUnlockWithMappedIdentity: start and the authenticator code.
func TestFastUnlockWithMappedIdentity(t *testing.T) {
	h := newHarness(t)
	seed := enrollApp(t, h, "crossi")
	h.hints = engine.Hints{Email: "chiara.rossi@demo.example"}
	h.send("teams", "A1", text("I'm locked out"))
	if r := h.send("teams", "A1", text(h.totpCode(seed))); r.State != "done" {
		t.Fatalf("ended in %s", r.State)
	}
	h.assertNoLeaks()
	h.golden("fast_unlock")
}

// TestPhoneUnlock is the phone unlock with an authenticator: menu, employee
// number, code.
func TestPhoneUnlock(t *testing.T) {
	h := newHarness(t)
	seed := enrollApp(t, h, "crossi")
	h.send("voice", "CA2", digits("2"))
	h.send("voice", "CA2", digits("10063"))
	if r := h.send("voice", "CA2", digits(h.totpCode(seed))); r.State != "done" {
		t.Fatalf("ended in %s", r.State)
	}
	h.assertNoLeaks()
	h.golden("phone_unlock")
}

// TestDifferentAccount: "different account" forgets the mapped account and
// asks for a login, as a plain start does; verification is then for the
// account typed.
func TestDifferentAccount(t *testing.T) {
	h := newHarness(t)
	h.hints = aliceHints
	h.send("slack", "U2", start(flows.FlowReset))
	r := h.send("slack", "U2", choice("other_account"))
	if r.State != "identify" || r.Last().MessageID != "identify.prompt" {
		t.Fatalf("different account: %s %v", r.State, r.Outputs)
	}
	r = h.send("slack", "U2", text("fhaddad"))
	if r.State != "verify_factor" || hasChoice(r, "other_account") || r.Outputs[0].MessageID == "identify.as.reset" {
		t.Fatalf("after a typed login: %s %v", r.State, r.Outputs)
	}
	h.send("slack", "U2", choice("sms"))
	if d, _ := h.box.Last(); d.Message.To != "+15555550106" {
		t.Fatalf("code went to %s, not the typed account's number", d.Message.To)
	}
}

// TestUnmappedHintIsAPlainStart: a chat identity that maps to no account,
// to several, or that the adapter marked unverified gets the plain start's
// replies, and the same time.
func TestUnmappedHintIsAPlainStart(t *testing.T) {
	accts := memory.DemoAccounts()
	twin := accts[1]
	twin.User.ID, twin.User.Login, twin.User.EmployeeNumber = "uid=twin,ou=people,dc=demo,dc=example", "twin", "10097"
	twin.User.Email = accts[2].User.Email
	accts = append(accts, twin)
	const floor = 800 * time.Millisecond
	// run plays a start and a login; the start turn's timing floor must be
	// the configured one whatever the hints: NotBefore is the turn's start
	// plus the floor, so it lies between before+floor and after+floor.
	run := func(hints engine.Hints) string {
		h := newHarnessWith(t, nil, accts, func(d *flows.Deps) { d.Floor = floor })
		h.hints = hints
		before := time.Now()
		r := h.eng.Run(context.Background(), engine.Turn{Channel: "slack", ChannelUser: "U3", Hints: hints, Input: start(flows.FlowReset)})
		after := time.Now()
		if r.NotBefore.Before(before.Add(floor)) || r.NotBefore.After(after.Add(floor)) {
			t.Errorf("hints %+v: the start was not held to the floor", hints)
		}
		h.lines = append(h.lines, "start:")
		for _, o := range r.Outputs {
			h.lines = append(h.lines, render(o))
		}
		h.send("slack", "U3", text("amartin"))
		return strings.Join(h.lines, "\n")
	}
	plain := run(engine.Hints{})
	for name, hints := range map[string]engine.Hints{
		"no account":  {Email: "nobody@demo.example"},
		"two":         {Email: accts[2].User.Email},
		"unverified":  {Email: aliceHints.Email, Unverified: true},
		"login":       {Login: "no-such-login"},
		"phone alone": {Phone: "+15555550101"},
	} {
		if got := run(hints); got != plain {
			t.Errorf("%s: differs from a plain start\n%s\n--- plain\n%s", name, got, plain)
		}
	}
	run(aliceHints) // the floor holds for a mapped identity too
}

// TestPhrasesStartTheRightFlow: natural phrasings, from the catalogs, in
// every language; anything else shows the menu.
func TestPhrasesStartTheRightFlow(t *testing.T) {
	cases := map[string][]string{
		flows.FlowReset: {"forgot my password", "I forgot my password!", "reset password", "can't log in", "I can’t log in",
			"olvidé mi contraseña", "no puedo iniciar sesión", "j'ai oublié mon mot de passe", "je n'arrive pas à me connecter",
			"Passwort vergessen", "ich kann mich nicht anmelden", "esqueci minha senha", "não consigo entrar"},
		flows.FlowUnlock: {"I'm locked out", "locked out", "unlock my account", "estoy bloqueado", "mi cuenta bloqueada",
			"je suis bloqué", "compte verrouillé", "ich bin gesperrt", "Konto gesperrt", "estou bloqueado", "conta bloqueada"},
		flows.FlowEnroll: {"set up authenticator", "set up an authenticator app", "configurar autenticador",
			"configurer l'authentificateur", "Authenticator einrichten", "configurar o autenticador"},
		"": {"hello", "what is the weather", "hola"},
	}
	h := newHarness(t)
	n := 0
	for want, phrases := range cases {
		for _, p := range phrases {
			n++
			r := h.send("slack", "P"+string(rune('A'+n)), text(p))
			if r.Flow != want {
				t.Errorf("%q started %q, want %q", p, r.Flow, want)
			}
			if want == "" && r.Last().MessageID != engine.MsgMenu {
				t.Errorf("%q: %v, want the menu", p, r.Outputs)
			}
		}
	}
}

// TestActionCounts measures the golden transcripts: how many actions each
// flow takes, per channel. The fast paths are bounds the tests hold; the
// others are reported (go test -v).
func TestActionCounts(t *testing.T) {
	bounds := []struct {
		file, flow, what string
		max              int
	}{
		{"fast_reset", flows.FlowReset, "chat reset, mapped identity, authenticator enrolled", 4},
		{"fast_unlock", flows.FlowUnlock, "chat unlock, mapped identity, authenticator enrolled", 2},
		{"phone_unlock", flows.FlowUnlock, "phone unlock key entries, authenticator enrolled", 3},
		{"phone_reset", flows.FlowReset, "phone reset key entries, no authenticator", 5},
		{"enroll_then_reset", flows.FlowReset, "chat reset, typed login, authenticator enrolled", 5},
		{"chat_unlock", flows.FlowUnlock, "chat unlock, typed login, no authenticator", 4},
	}
	for _, b := range bounds {
		raw, err := os.ReadFile(filepath.Join("testdata", b.file+".golden"))
		if err != nil {
			t.Fatal(err)
		}
		n, ok := actionsOf(string(raw), b.flow)
		if !ok {
			t.Fatalf("%s: no %s conversation", b.file, b.flow)
		}
		t.Logf("%-55s %d actions", b.what, n)
		if n > b.max {
			t.Errorf("%s: %d actions, at most %d", b.what, n, b.max)
		}
	}
}

// actionsOf counts the last conversation of flow in a golden transcript
// that ended well.
func actionsOf(golden, flow string) (int, bool) {
	n, ok := 0, false
	for _, r := range transcript.Runs(golden) {
		if r.Flow == flow && r.State == "done" {
			n, ok = r.Actions, true
		}
	}
	return n, ok
}

// TestStrayKeyIsNoAttempt: "1", pressed out of habit where the menu used to
// offer the authenticator, is asked again without spending an attempt.
func TestStrayKeyIsNoAttempt(t *testing.T) {
	h := newHarness(t)
	h.send("voice", "CA9", digits("1"))
	h.send("voice", "CA9", digits("10041"))
	r := h.send("voice", "CA9", digits("1"))
	if r.State != "verify_factor" || r.Outputs[0].MessageID != engine.MsgBadChoice || len(h.rec.Find("verify.attempt")) != 0 {
		t.Fatalf("a stray key: %s %v, %d attempts", r.State, r.Outputs, len(h.rec.Find("verify.attempt")))
	}
	if r = h.send("voice", "CA9", digits("2")); r.Last().MessageID != "code.prompt.sms" {
		t.Fatalf("2 beside the code: %v", r.Outputs)
	}
}
