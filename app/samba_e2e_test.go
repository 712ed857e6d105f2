package app_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/flows"
	"github.com/resetbot/resetbot/internal/testserver"
)

func sambaRig(t *testing.T, mutate ...func(*env)) (*rig, *testserver.SambaServer) {
	s := testserver.SambaDC(t)
	e := sambaEnv(s)
	for _, m := range mutate {
		m(&e)
	}
	return newRig(t, yamlConfig(t, demoHead+sambaDir, e)), s
}

// sambaAttr reads one attribute of dn as the domain Administrator.
func sambaAttr(t testing.TB, s *testserver.SambaServer, dn, attr string) string {
	t.Helper()
	res, err := s.Admin(t).Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		1, 0, false, "(objectClass=*)", []string{attr}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("read %s of %s: %v", attr, dn, err)
	}
	return res.Entries[0].GetAttributeValue(attr)
}

// TestSambaChatReset runs a chat reset through the real app against a
// throwaway Samba AD DC: the new password binds, the old one does not, and a
// self-chosen password is not must-change.
func TestSambaChatReset(t *testing.T) {
	r, s := sambaRig(t)
	u := testserver.SambaJDoe
	const pw = "Lantern-Violet-Ocean-7"
	r.expect(r.chatReset("U1", u.Login, pw), "done", "reset.done")
	if err := s.Bind(u.UPN, pw); err != nil {
		t.Fatalf("new password does not bind: %v", err)
	}
	if err := s.Bind(u.UPN, u.Password); err == nil {
		t.Fatal("old password still binds")
	}
	if got := sambaAttr(t, s, u.DN, "pwdLastSet"); got == "0" {
		t.Fatal("a self-chosen password was made must-change")
	}
	r.assertNoLeaks(pw, u.Password, testserver.SambaBot.Password)
}

// TestSambaChatUnlock unlocks the fixture's locked account and one locked
// by failed binds, each with an SMS code, and binds with the old password.
func TestSambaChatUnlock(t *testing.T) {
	r, s := sambaRig(t)
	s.Lock(t, testserver.SambaASmith)
	for i, u := range []testserver.SambaUser{testserver.SambaLocked, testserver.SambaASmith} {
		t.Run(u.Login, func(t *testing.T) {
			if err := s.Bind(u.UPN, u.Password); err == nil || !strings.Contains(err.Error(), "data 775") {
				t.Fatalf("not locked before: %v", err)
			}
			// The UPN routes by its suffix.
			rep := r.chatVerify("L"+strconv.Itoa(i), flows.FlowUnlock, u.UPN, "sms")
			r.expect(rep, "done", "unlock.done")
			if err := s.Bind(u.UPN, u.Password); err != nil {
				t.Fatalf("still locked: %v", err)
			}
		})
	}
	r.assertNoLeaks()
}

// TestSambaPhoneReset resets by phone; the passphrase arrives by SMS and is
// must-change (pwdLastSet=0: the bind answers "data 773").
func TestSambaPhoneReset(t *testing.T) {
	r, s := sambaRig(t)
	u := testserver.SambaJDoe
	r.expect(r.send("voice", "CA1", digits("1")), "identify", "identify.prompt")
	r.expect(r.send("voice", "CA1", digits(u.EmployeeID)), "verify_factor", "totp.prompt")
	r.expect(r.send("voice", "CA1", digits("2")), "verify_factor", "code.prompt.sms")
	r.expect(r.send("voice", "CA1", digits(r.code())), "verify_factor", "code.sent_to") // email, sent at once
	r.expect(r.send("voice", "CA1", digits(r.code())), "done", "reset.passphrase_sent")
	pw := r.passphrase()
	if got := sambaAttr(t, s, u.DN, "pwdLastSet"); got != "0" {
		t.Fatalf("pwdLastSet = %q, want 0", got)
	}
	if err := s.Bind(u.UPN, pw); err == nil || !strings.Contains(err.Error(), "data 773") {
		t.Fatalf("bind with the passphrase: %v, want must-change (data 773)", err)
	}
	if err := s.Bind(u.UPN, u.Password); err == nil || !strings.Contains(err.Error(), "data 52e") {
		t.Fatalf("bind with the old password: %v, want invalid credentials (data 52e)", err)
	}
	r.assertNoLeaks(pw)
}

// TestSambaPreflight: disabled, expired and protected (adminCount=1, nested
// protected group) accounts hear what to do after verification; nothing is
// written.
func TestSambaPreflight(t *testing.T) {
	r, s := sambaRig(t, func(e *env) { e.Extra = "factors: {require: {reset: {default: 1}}, policy: {phone_alone: true}}" })
	for i, tc := range []struct {
		user         testserver.SambaUser
		state, msgID string
	}{
		{testserver.SambaDisabled, "blocked", "preflight.disabled"},
		{testserver.SambaExpired, "blocked", "preflight.expired"},
		{testserver.SambaAdminCount, "escalated", "preflight.protected"},
		{testserver.SambaNested, "escalated", "preflight.protected"},
	} {
		t.Run(tc.user.Login, func(t *testing.T) {
			before := sambaAttr(t, s, tc.user.DN, "pwdLastSet")
			rep := r.chatVerify("P"+strconv.Itoa(i), flows.FlowReset, tc.user.Login, "sms")
			r.expect(rep, tc.state, tc.msgID)
			if after := sambaAttr(t, s, tc.user.DN, "pwdLastSet"); after != before {
				t.Fatalf("pwdLastSet moved from %s to %s", before, after)
			}
		})
	}
	if err := s.Bind(testserver.SambaAdminCount.UPN, testserver.SambaAdminCount.Password); err != nil {
		t.Fatalf("protected account's password changed: %v", err)
	}
	r.assertNoLeaks()
}

// TestSambaPolicyRefusal: the domain's complexity rule (which our own policy
// does not have) refuses an all-lowercase password as
// password.rejected.quality; the user retries in the same conversation.
func TestSambaPolicyRefusal(t *testing.T) {
	r, s := sambaRig(t)
	u := testserver.SambaJDoe
	rep := r.chatReset("U3", u.Login, "lanternvioletoceanharbor")
	r.expect(rep, "new_password", "password.rejected.quality")
	if err := s.Bind(u.UPN, u.Password); err != nil {
		t.Fatalf("refused reset changed the password: %v", err)
	}
	const pw = "Lantern-Violet-Ocean-7"
	r.expect(r.send("slack", "U3", masked(pw, pw)), "done", "reset.done")
	if err := s.Bind(u.UPN, pw); err != nil {
		t.Fatalf("retry did not set the password: %v", err)
	}
	r.assertNoLeaks(pw, "lanternvioletoceanharbor")
}

// TestSambaVoiceUnlock unlocks by phone: employee number and a code by
// voice call, all on the keypad.
func TestSambaVoiceUnlock(t *testing.T) {
	r, s := sambaRig(t)
	u := testserver.SambaLocked
	r.expect(r.send("voice", "CA2", digits("2")), "identify", "identify.prompt") // menu: unlock
	r.expect(r.send("voice", "CA2", digits(u.EmployeeID)), "verify_factor", "totp.prompt")
	r.expect(r.send("voice", "CA2", digits("3")), "verify_factor", "code.prompt.voice")
	r.expect(r.send("voice", "CA2", digits(r.code())), "done", "unlock.done")
	if err := s.Bind(u.UPN, u.Password); err != nil {
		t.Fatalf("still locked: %v", err)
	}
	r.assertNoLeaks()
}

// TestSambaResetClearsMustChange: a self-chosen password given to an
// account that had to change its password (pwdLastSet=0) logs in at once.
func TestSambaResetClearsMustChange(t *testing.T) {
	r, s := sambaRig(t)
	u := testserver.SambaMustChange
	const pw = "Harbor-Tulip-Granite-93"
	r.expect(r.chatReset("U6", u.Login, pw), "done", "reset.done")
	if err := s.Bind(u.UPN, pw); err != nil {
		t.Fatalf("bind after reset: %v", err)
	}
	r.assertNoLeaks(pw)
}
