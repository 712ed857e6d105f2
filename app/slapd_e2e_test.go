package app_test

import (
	"strconv"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/flows"
	"github.com/resetbot/resetbot/internal/testserver"
)

// slapdConn dials the server over LDAPS and binds as dn; nil error means the
// password is right.
func slapdBind(t testing.TB, s *testserver.SlapdServer, dn, pw string) error {
	t.Helper()
	c, err := ldap.DialURL(s.LDAPSURL, ldap.DialWithTLSConfig(s.TLSConfig()))
	if err != nil {
		t.Fatalf("dial slapd: %v", err)
	}
	defer c.Close()
	return c.Bind(dn, pw)
}

// slapdRoot returns a connection bound as the rootdn, closed when t ends.
func slapdRoot(t testing.TB, s *testserver.SlapdServer) *ldap.Conn {
	t.Helper()
	c, err := ldap.DialURL(s.LDAPSURL, ldap.DialWithTLSConfig(s.TLSConfig()))
	if err != nil {
		t.Fatalf("dial slapd: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Bind(testserver.SlapdRootDN, testserver.SlapdRootPW); err != nil {
		t.Fatalf("root bind: %v", err)
	}
	return c
}

// slapdAttr reads one (operational) attribute of dn as the rootdn.
func slapdAttr(t testing.TB, s *testserver.SlapdServer, dn, attr string) string {
	t.Helper()
	res, err := slapdRoot(t, s).Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		1, 0, false, "(objectClass=*)", []string{attr}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("read %s of %s: %v", attr, dn, err)
	}
	return res.Entries[0].GetAttributeValue(attr)
}

// slapdLock locks u out the way a user would: failed binds until ppolicy's
// pwdMaxFailure (5) is reached.
func slapdLock(t testing.TB, s *testserver.SlapdServer, u testserver.SlapdUser) {
	t.Helper()
	for range 5 {
		if err := slapdBind(t, s, u.DN(), "wrong-"+u.Password); !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
			t.Fatalf("failed bind: %v", err)
		}
	}
	if slapdAttr(t, s, u.DN(), "pwdAccountLockedTime") == "" {
		t.Fatal("account not locked after 5 failures")
	}
}

func slapdRig(t *testing.T, mutate ...func(*env)) (*rig, *testserver.SlapdServer) {
	s := testserver.Slapd(t)
	e := slapdEnv(s)
	for _, m := range mutate {
		m(&e)
	}
	return newRig(t, yamlConfig(t, demoHead+slapdDir, e)), s
}

var (
	slapdAlice = testserver.SlapdUsers[0]
	slapdBob   = testserver.SlapdUsers[1]
	slapdDave  = testserver.SlapdUsers[3] // disabled
	slapdEve   = testserver.SlapdUsers[4] // protected
	slapdMia   = testserver.SlapdUsers[7] // minimum age not reached
	slapdNora  = testserver.SlapdUsers[8] // locked by an administrator (000001010000Z)
	slapdOscar = testserver.SlapdUsers[9] // expired (pwdEndTime in the past)
)

// TestSlapdChatReset runs a chat reset through the real app against a
// throwaway slapd and proves the new password binds and the old one not.
func TestSlapdChatReset(t *testing.T) {
	r, s := slapdRig(t)
	const pw = "Lantern-Violet-Ocean-7"
	r.expect(r.chatReset("U1", slapdAlice.Login, pw), "done", "reset.done")
	if err := slapdBind(t, s, slapdAlice.DN(), pw); err != nil {
		t.Fatalf("new password does not bind: %v", err)
	}
	if err := slapdBind(t, s, slapdAlice.DN(), slapdAlice.Password); err == nil {
		t.Fatal("old password still binds")
	}
	if got := slapdAttr(t, s, slapdAlice.DN(), "pwdReset"); got != "" {
		t.Fatalf("a self-chosen password is not must-change, pwdReset = %q", got)
	}
	r.assertNoLeaks(pw, slapdAlice.Password, testserver.SlapdBotPW)
}

// TestSlapdChatUnlock unlocks through the unlock flow and binds with the
// unchanged password: bob locked by five failed binds (pwdFailureTime set),
// carol locked by the fixture (pwdAccountLockedTime only).
func TestSlapdChatUnlock(t *testing.T) {
	r, s := slapdRig(t)
	slapdCarol := testserver.SlapdUsers[2]
	slapdLock(t, s, slapdBob)
	for i, u := range []testserver.SlapdUser{slapdCarol, slapdBob} {
		t.Run(u.Login, func(t *testing.T) {
			rep := r.chatVerify("L"+strconv.Itoa(i), flows.FlowUnlock, u.Email, "sms")
			r.expect(rep, "done", "unlock.done")
			if err := slapdBind(t, s, u.DN(), u.Password); err != nil {
				t.Fatalf("still locked: %v", err)
			}
		})
	}
	r.assertNoLeaks(slapdBob.Password, slapdCarol.Password)
}

// TestSlapdPhoneReset resets by phone: keypad input, the passphrase goes by
// SMS and must be changed at next login (pwdReset).
func TestSlapdPhoneReset(t *testing.T) {
	r, s := slapdRig(t)
	r.expect(r.send("voice", "CA1", digits("1")), "identify", "identify.prompt")
	r.expect(r.send("voice", "CA1", digits(slapdAlice.EmployeeNumber)), "verify_factor", "totp.prompt")
	r.expect(r.send("voice", "CA1", digits("2")), "verify_factor", "code.prompt.sms")
	r.expect(r.send("voice", "CA1", digits(r.code())), "verify_factor", "code.sent_to") // email, sent at once
	r.expect(r.send("voice", "CA1", digits(r.code())), "done", "reset.passphrase_sent")
	pw := r.passphrase()
	if err := slapdBind(t, s, slapdAlice.DN(), pw); err != nil {
		t.Fatalf("passphrase does not bind: %v", err)
	}
	if err := slapdBind(t, s, slapdAlice.DN(), slapdAlice.Password); err == nil {
		t.Fatal("old password still binds")
	}
	if got := slapdAttr(t, s, slapdAlice.DN(), "pwdReset"); got != "TRUE" {
		t.Fatalf("pwdReset = %q, want TRUE", got)
	}
	r.assertNoLeaks(pw)
}

// TestSlapdPreflight: disabled, protected, too-young, administratively
// locked and expired accounts hear what to do after verification, and
// nothing is written (nora's 000001010000Z lock survives both flows).
func TestSlapdPreflight(t *testing.T) {
	r, s := slapdRig(t, func(e *env) { e.Extra = "factors: {require: {reset: {default: 1}}, policy: {phone_alone: true}}" })
	for i, tc := range []struct {
		user         testserver.SlapdUser
		state, msgID string
	}{
		{slapdDave, "blocked", "preflight.disabled"},
		{slapdEve, "escalated", "preflight.protected"},
		{slapdMia, "blocked", "preflight.too_young"},
		{slapdNora, "blocked", "preflight.admin_locked"},
		{slapdOscar, "blocked", "preflight.expired"},
	} {
		t.Run(tc.user.Login, func(t *testing.T) {
			before := slapdAttr(t, s, tc.user.DN(), "pwdChangedTime")
			// The strongest factor of record: the phone; mia has none, so her
			// personal address (single weak factors allowed by phone_alone).
			f := "sms"
			if tc.user.Mobile == "" {
				f = "email"
			}
			rep := r.chatVerify("P"+strconv.Itoa(i), flows.FlowReset, tc.user.Login, f)
			r.expect(rep, tc.state, tc.msgID)
			if err := slapdBind(t, s, tc.user.DN(), tc.user.Password); err != nil && !tc.user.AdminLocked && !tc.user.Expired {
				t.Fatalf("password changed: %v", err)
			}
			if after := slapdAttr(t, s, tc.user.DN(), "pwdChangedTime"); after != before {
				t.Fatalf("pwdChangedTime moved from %q to %q", before, after)
			}
		})
	}
	rep := r.chatVerify("P-unlock", flows.FlowUnlock, slapdNora.Login, "email")
	r.expect(rep, "blocked", "preflight.admin_locked")
	if got := slapdAttr(t, s, slapdNora.DN(), "pwdAccountLockedTime"); got != "000001010000Z" {
		t.Errorf("nora's administrator lock is now %q", got)
	}
	r.assertNoLeaks()
}

// TestSlapdPolicyRefusal: with our own policy relaxed to 8 characters and
// slapd's raised to 16, the server's refusal comes back as
// password.rejected.too_short and the user retries successfully; the
// current password tried again comes back as password.rejected.history.
func TestSlapdPolicyRefusal(t *testing.T) {
	r, s := slapdRig(t, func(e *env) { e.MinLength = 8 })
	m := ldap.NewModifyRequest(testserver.SlapdPolicyDN, nil)
	m.Replace("pwdMinLength", []string{"16"})
	if err := slapdRoot(t, s).Modify(m); err != nil {
		t.Fatalf("raise pwdMinLength: %v", err)
	}
	rep := r.chatReset("U3", slapdAlice.Login, "Quartz-Lily-82") // 14: ours passes, slapd's 16 does not
	r.expect(rep, "new_password", "password.rejected.too_short")
	if err := slapdBind(t, s, slapdAlice.DN(), slapdAlice.Password); err != nil {
		t.Fatalf("refused reset changed the password: %v", err)
	}
	const pw = "Quartz-Lily-Meadow-82"
	r.expect(r.send("slack", "U3", masked(pw, pw)), "done", "reset.done")
	if err := slapdBind(t, s, slapdAlice.DN(), pw); err != nil {
		t.Fatalf("retry did not set the password: %v", err)
	}
	// A second conversation tries the current password again: history.
	rep = r.chatReset("U4", slapdAlice.Login, pw)
	r.expect(rep, "new_password", "password.rejected.history")
	const pw2 = "Harbor-Tulip-Granite-93"
	r.expect(r.send("slack", "U4", masked(pw2, pw2)), "done", "reset.done")
	if err := slapdBind(t, s, slapdAlice.DN(), pw2); err != nil {
		t.Fatalf("second reset did not set the password: %v", err)
	}
	if got := len(r.rec.Find("reset.done")); got != 4 {
		t.Errorf("audit has %d reset.done events (2 refused, 2 done), want 4: %v", got, r.rec.Names())
	}
	r.assertNoLeaks(pw, pw2, "Quartz-Lily-82")
}

// TestSlapdResetOfLockedAccount: a reset of an account locked by failed
// binds also unlocks it: the new password binds at once.
func TestSlapdResetOfLockedAccount(t *testing.T) {
	r, s := slapdRig(t)
	slapdLock(t, s, slapdBob)
	const pw = "Harbor-Tulip-Granite-93"
	r.expect(r.chatReset("U5", slapdBob.Login, pw), "done", "reset.done")
	if err := slapdBind(t, s, slapdBob.DN(), pw); err != nil {
		t.Fatalf("new password does not bind: %v", err)
	}
	if got := slapdAttr(t, s, slapdBob.DN(), "pwdAccountLockedTime"); got != "" {
		t.Fatalf("still locked: pwdAccountLockedTime %q", got)
	}
	if r.logs.Contains("unlock after reset failed") {
		t.Logf("known ldap.Unlock bug shows after the reset: %s", r.logs.String())
	}
	r.assertNoLeaks(pw)
}
