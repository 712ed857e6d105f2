package flows_test

import (
	"slices"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/directory/memory"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/flows"
)

// accountsWith returns the demo company plus gwork (only a work mailbox) and
// hphone (only a mobile).
func accountsWith() []memory.Account {
	accts := memory.DemoAccounts()
	g := accts[0]
	g.User.ID, g.User.Login, g.User.EmployeeNumber = "uid=gwork,ou=people,dc=demo,dc=example", "gwork", "10099"
	g.User.Email, g.User.Mobile, g.User.RecoveryEmail = "gina.work@demo.example", "", ""
	p := accts[0]
	p.User.ID, p.User.Login, p.User.EmployeeNumber = "uid=hphone,ou=people,dc=demo,dc=example", "hphone", "10098"
	p.User.Email, p.User.Mobile, p.User.RecoveryEmail = "hugo.phone@demo.example", "+15555550199", ""
	return append(accts, g, p)
}

// TestMailboxOnlyUserIsEscalated: the account's own work mailbox is never a
// factor. A user with nothing else receives no code anywhere, cannot verify,
// and reaches the help desk with the context packet — with the very replies
// an unknown login gets.
func TestMailboxOnlyUserIsEscalated(t *testing.T) {
	run := func(login string) (*harness, *packets) {
		rec := &packets{}
		h := newHarnessWith(t, nil, accountsWith(), func(d *flows.Deps) { d.Escalator = rec })
		h.send("slack", "U40", start(flows.FlowReset))
		h.send("slack", "U40", text(login))
		h.send("slack", "U40", choice("email"))
		h.send("slack", "U40", text("123456"))
		h.send("slack", "U40", choice("resend"))
		r := h.send("slack", "U40", choice("none"))
		if r.State != "escalated" {
			t.Fatalf("%s: ended in %s", login, r.State)
		}
		return h, rec
	}
	h, rec := run("gwork")
	if n := len(h.box.Messages()); n != 0 {
		t.Fatalf("%d messages sent; the work mailbox must never get a code", n)
	}
	if len(rec.p) != 1 || rec.p[0].Reason != "no_factor" || rec.p[0].Login != "gwork" || len(rec.p[0].OfRecord) != 0 {
		t.Fatalf("packet %+v", rec.p)
	}
	unknown, _ := run("nobody-at-all")
	if replies(h.lines) != replies(unknown.lines) {
		t.Fatalf("mailbox-only and unknown differ:\n%s\n---\n%s", replies(h.lines), replies(unknown.lines))
	}
	h.golden("mailbox_only")
}

// TestTooFewFactorsIsEscalated: a user with only a phone proves it, and is
// then sent to the help desk rather than reset with less than the policy.
func TestTooFewFactorsIsEscalated(t *testing.T) {
	rec := &packets{}
	h := newHarnessWith(t, nil, accountsWith(), func(d *flows.Deps) { d.Escalator = rec })
	h.send("slack", "U41", start(flows.FlowReset))
	h.send("slack", "U41", text("hphone"))
	h.send("slack", "U41", choice("sms"))
	r := h.send("slack", "U41", text(h.code()))
	if r.State != "escalated" || r.Outputs[0].MessageID != "verify.insufficient" {
		t.Fatalf("phone-only user: %s %v", r.State, r.Outputs)
	}
	if len(rec.p) != 1 || rec.p[0].Reason != "insufficient_factors" || !slices.Equal(rec.p[0].OfRecord, []string{"sms", "voice"}) {
		t.Fatalf("packet %+v", rec.p)
	}
	h.assertNoLeaks()
	h.golden("too_few_factors")
}

// TestPhoneAloneNeedsOptIn: with a count of one, a phone code alone still
// does not reset unless the operator opted in; the authenticator alone does.
func TestPhoneAloneNeedsOptIn(t *testing.T) {
	for _, optIn := range []bool{false, true} {
		h := newHarness(t, func(d *flows.Deps) {
			d.Policy.Require[flows.FlowReset] = flows.Requirement{Default: 1}
			d.Policy.PhoneAlone = optIn
		})
		h.send("slack", "U42", start(flows.FlowReset))
		h.send("slack", "U42", text("amartin"))
		h.send("slack", "U42", choice("sms"))
		r := h.send("slack", "U42", text(h.code()))
		want := "verify_factor" // the second factor, asked at once
		if optIn {
			want = "new_password"
		}
		if r.State != want {
			t.Fatalf("opt-in %v: %s", optIn, r.State)
		}
		if optIn && r.Outputs[0].MessageID != "factor.app_stronger" {
			t.Fatalf("not told an authenticator is stronger: %v", r.Outputs)
		}
	}
	h := newHarness(t, func(d *flows.Deps) { d.Policy.Require[flows.FlowReset] = flows.Requirement{Default: 1} })
	seed := enrollApp(t, h, "amartin")
	h.send("slack", "U43", start(flows.FlowReset))
	h.send("slack", "U43", text("amartin"))
	if r := h.send("slack", "U43", text(h.totpCode(seed))); r.State != "new_password" {
		t.Fatalf("authenticator alone: %s", r.State)
	}
}

// TestAuthenticatorUserNeedsTheAuthenticator: a user with an app, a phone and
// a personal address is never reset with the phone and the address alone.
func TestAuthenticatorUserNeedsTheAuthenticator(t *testing.T) {
	h := newHarness(t)
	seed := enrollApp(t, h, "amartin")
	h.send("slack", "U44", start(flows.FlowReset))
	h.send("slack", "U44", text("amartin"))
	h.send("slack", "U44", choice("sms"))
	r := h.send("slack", "U44", text(h.code()))
	// After the text message, the authenticator is asked for at once; the
	// email is no longer offered in its place.
	if r.State != "verify_factor" || r.Outputs[0].MessageID != "verify.need_strongest" || r.Last().MessageID != "totp.prompt" ||
		hasChoice(r, "email") || hasChoice(r, "voice") {
		t.Fatalf("reset without the authenticator: %s %v", r.State, r.Outputs)
	}
	if r := h.send("slack", "U44", choice("email")); r.State != "verify_factor" || r.Outputs[0].MessageID != engine.MsgBadChoice {
		t.Fatalf("email instead of the authenticator: %s %v", r.State, r.Outputs)
	}
	if r := h.send("slack", "U44", masked("Lantern-Violet-Ocean-7", "Lantern-Violet-Ocean-7")); r.State == "done" {
		t.Fatal("password set without the authenticator")
	}
	h.advance(time.Minute)
	if r := h.send("slack", "U44", text(h.totpCode(seed))); r.State != "new_password" {
		t.Fatalf("with the authenticator: %s", r.State)
	}
	if r := h.send("slack", "U44", masked("Lantern-Violet-Ocean-7", "Lantern-Violet-Ocean-7")); r.State != "done" {
		t.Fatalf("reset: %s", r.State)
	}
	assertNoticed(t, h, "notice.reset", "sms:+15555550101", "email:alice@personal.example", "chat:alice.martin@demo.example")
	h.secrets = append(h.secrets, "Lantern-Violet-Ocean-7")
	h.assertNoLeaks()
	h.golden("authenticator_required")
}

// TestManagerIsNoticed: with notify_manager, the manager of record hears of
// the reset too (by email, without any secret).
func TestManagerIsNoticed(t *testing.T) {
	h := newHarness(t, func(d *flows.Deps) {
		d.Policy.NotifyManager = true
		d.Managers = d.Directory.(flows.Managers)
	})
	h.send("slack", "U45", start(flows.FlowReset))
	h.send("slack", "U45", text("fhaddad"))
	h.send("slack", "U45", choice("sms"))
	h.send("slack", "U45", text(h.code()))
	h.send("slack", "U45", choice("email"))
	h.send("slack", "U45", text(h.code()))
	if r := h.send("slack", "U45", masked("Lantern-Violet-Ocean-7", "Lantern-Violet-Ocean-7")); r.State != "done" {
		t.Fatalf("reset: %s", r.State)
	}
	assertNoticed(t, h, "notice.reset", "sms:+15555550106", "email:farah@personal.example", "chat:farah.haddad@demo.example")
	assertNoticed(t, h, "manager.notice.reset", "email:alice.martin@demo.example")
	h.secrets = append(h.secrets, "Lantern-Violet-Ocean-7")
	h.assertNoLeaks()
}
