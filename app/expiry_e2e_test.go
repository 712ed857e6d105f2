package app_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/outreach"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/flows"
	"github.com/resetbot/resetbot/internal/testserver"
)

// fakeChat is a DirectMessenger standing in for Slack: users are found by
// work email; DMs are recorded.
type fakeChat struct {
	mu    sync.Mutex
	users map[string]string // lower-cased email -> chat user
	sent  []outreach.Notice
	to    []outreach.Recipient
}

func (c *fakeChat) Channel() string { return "slack" }

func (c *fakeChat) Resolve(_ context.Context, u directory.User) (outreach.Recipient, error) {
	if id, ok := c.users[strings.ToLower(u.Email)]; ok {
		return outreach.Recipient{Channel: "slack", User: id}, nil
	}
	return outreach.Recipient{}, outreach.ErrUnmapped
}

func (c *fakeChat) Send(_ context.Context, r outreach.Recipient, n outreach.Notice) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent, c.to = append(c.sent, n), append(c.to, r)
	return nil
}

// dmsTo returns the notices sent to chat user id.
func (c *fakeChat) dmsTo(id string) []outreach.Notice {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []outreach.Notice
	for i, r := range c.to {
		if r.User == id {
			out = append(out, c.sent[i])
		}
	}
	return out
}

// expiryChange is the done-when on a real directory: the account
// expires in six days; two sweeps send it exactly one reminder on the
// fake chat; its button starts the change flow, which completes through
// the engine; the new password is returned for the caller's checks.
func expiryChange(t *testing.T, r *rig, login, email string) string {
	t.Helper()
	chat := &fakeChat{users: map[string]string{strings.ToLower(email): "U1"}}
	if r.a.Outreach == nil {
		t.Fatal("outreach.expiry is enabled but the app built no outreach")
	}
	r.a.Outreach.Register(chat)
	s, err := r.a.Outreach.Expiry()
	if err != nil || s == nil {
		t.Fatalf("expiry scheduler: %v, %v", s, err)
	}
	for range 2 {
		if _, err := s.Sweep(context.Background()); err != nil {
			t.Fatalf("sweep: %v", err)
		}
	}
	dms := chat.dmsTo("U1")
	if len(dms) != 1 {
		t.Fatalf("two sweeps sent %d reminders to %s, want exactly 1", len(dms), login)
	}
	if n := dms[0]; n.MessageID != "expiry.reminder" || n.Args["days"] != "6" {
		t.Fatalf("reminder = %s %v, want expiry.reminder in 6 days", n.MessageID, n.Args)
	}
	// The adapters' Answerer: lockout and expiry notices behind one.
	reply, err := r.a.Outreach.Answers().Answer(context.Background(), dms[0].Ref, outreach.ActionChange, outreach.Recipient{Channel: "slack", User: "U1"})
	if err != nil || reply.Flow != flows.FlowChange {
		t.Fatalf("Change it now = %+v, %v", reply, err)
	}
	const pw = "Saffron-Meadow-Kite-31"
	rep := r.chatVerify("U1", reply.Flow, login, "sms", "email")
	r.expect(rep, "change_password", "change.prompt")
	r.expect(r.send("slack", "U1", masked(pw, pw)), "done", "change.done")
	return pw
}

// expiryOn enables the reminders (e-mail to the outbox for users the
// fake chat does not know).
const expiryOn = `outreach:
  expiry: {enabled: true, email: true, change_url: "https://chat.example/resetbot"}
`

// TestSlapdExpiryReminderAndChange: alice's password (changed now) expires
// in six days under the default policy's pwdMaxAge.
func TestSlapdExpiryReminderAndChange(t *testing.T) {
	s := testserver.Slapd(t)
	e := slapdEnv(s)
	e.Extra = expiryOn
	r := newRig(t, yamlConfig(t, demoHead+slapdDir+"      policy_dn: "+testserver.SlapdPolicyDN+"\n", e))
	ctx := context.Background()
	users, err := r.a.Directory.Find(ctx, directory.ByLogin, slapdAlice.Login)
	if err != nil || len(users) != 1 {
		t.Fatalf("find alice: %v %v", users, err)
	}
	const start = "Ember-Harbor-Quill-12"
	if err := r.a.Directory.ResetPassword(ctx, users[0], secret.New(start), directory.ResetOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMaxPasswordAge(testserver.SlapdPolicyDN, 6*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	pw := expiryChange(t, r, slapdAlice.Login, slapdAlice.Email)
	if err := slapdBind(t, s, slapdAlice.DN(), pw); err != nil {
		t.Fatalf("new password does not bind: %v", err)
	}
	if err := slapdBind(t, s, slapdAlice.DN(), start); err == nil {
		t.Fatal("old password still binds")
	}
	if got := slapdAttr(t, s, slapdAlice.DN(), "pwdReset"); got != "" {
		t.Fatalf("a changed password is must-change: pwdReset = %q", got)
	}
	r.assertNoLeaks(pw, start, testserver.SlapdBotPW)
}

// TestSambaExpiryReminderAndChange: the domain's maxPwdAge is set so that
// jdoe's password expires in six days (msDS-UserPasswordExpiryTimeComputed).
func TestSambaExpiryReminderAndChange(t *testing.T) {
	r, s := sambaRig(t, func(e *env) { e.Extra = expiryOn })
	u := testserver.SambaJDoe
	last, err := strconv.ParseInt(sambaAttr(t, s, u.DN, "pwdLastSet"), 10, 64)
	if err != nil || last <= 0 {
		t.Fatalf("pwdLastSet of %s: %v", u.Login, err)
	}
	set := time.Unix(last/10_000_000-11644473600, 0)
	if err := s.SetMaxPasswordAge(t, time.Until(set.Add(6*24*time.Hour+time.Hour))); err != nil {
		t.Fatal(err)
	}
	pw := expiryChange(t, r, u.Login, u.Email)
	if err := s.Bind(u.UPN, pw); err != nil {
		t.Fatalf("new password does not bind: %v", err)
	}
	if err := s.Bind(u.UPN, u.Password); err == nil {
		t.Fatal("old password still binds")
	}
	if got := sambaAttr(t, s, u.DN, "pwdLastSet"); got == "0" {
		t.Fatal("a changed password was made must-change (pwdLastSet=0)")
	}
	if err := s.Bind(u.UPN, pw); ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
		t.Fatalf("bind says must change or expired: %v", err)
	}
	r.assertNoLeaks(pw, u.Password, testserver.SambaBot.Password)
}
