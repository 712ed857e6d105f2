package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	potp "github.com/pquerna/otp/totp"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/flows"
	"github.com/resetbot/resetbot/internal/testserver"
)

// The assurance model on real servers: the state in a real redis-server, the
// accounts in a real slapd and a real Samba AD DC. The same checks run on
// the memory fakes in flows' golden transcripts.

// onRedis moves a rig template's state from memory to a throwaway
// redis-server.
func onRedis(t *testing.T, head string) string {
	addr := testserver.Redis(t)
	return strings.Replace(head, "store: {type: memory}",
		`store: {type: redis, redis: {addrs: ["`+addr+`"], allow_plain: true}}`, 1)
}

// assuranceCase names one real directory and how to change its accounts.
type assuranceCase struct {
	name string
	// rig builds the app on Redis and this directory.
	rig func(t *testing.T, minLength int) *rig
	// strip leaves the account with only its work mailbox.
	strip func(t *testing.T)
	// mailboxOnly and withApp are logins (the second keeps its factors);
	// bind proves a password of withApp.
	mailboxOnly, withApp string
	bind                 func(t *testing.T, pw string) error
}

func assuranceCases() []assuranceCase {
	var sl *testserver.SlapdServer
	var sa *testserver.SambaServer
	slapdBob := testserver.SlapdUsers[1]
	return []assuranceCase{
		{
			name: "slapd",
			rig: func(t *testing.T, minLength int) *rig {
				sl = testserver.Slapd(t)
				e := slapdEnv(sl)
				e.MinLength = minLength
				return newRig(t, yamlConfig(t, onRedis(t, demoHead)+slapdDir, e))
			},
			strip: func(t *testing.T) {
				m := ldap.NewModifyRequest(slapdBob.DN(), nil)
				m.Delete("mobile", nil)
				m.Delete(testserver.SlapdRecoveryAttr, nil)
				if err := slapdRoot(t, sl).Modify(m); err != nil {
					t.Fatalf("strip bob: %v", err)
				}
			},
			mailboxOnly: slapdBob.Login, withApp: slapdAlice.Login,
			bind: func(t *testing.T, pw string) error { return slapdBind(t, sl, slapdAlice.DN(), pw) },
		},
		{
			name: "samba",
			rig: func(t *testing.T, minLength int) *rig {
				sa = testserver.SambaDC(t)
				e := sambaEnv(sa)
				e.MinLength = minLength
				return newRig(t, yamlConfig(t, onRedis(t, demoHead)+sambaDir, e))
			},
			strip: func(t *testing.T) {
				m := ldap.NewModifyRequest(testserver.SambaASmith.DN, nil)
				m.Delete("mobile", nil)
				m.Delete(testserver.SambaRecoveryAttr, nil)
				if err := sa.Admin(t).Modify(m); err != nil {
					t.Fatalf("strip asmith: %v", err)
				}
			},
			mailboxOnly: testserver.SambaASmith.Login, withApp: testserver.SambaJDoe.Login,
			bind: func(t *testing.T, pw string) error { return sa.Bind(testserver.SambaJDoe.UPN, pw) },
		},
	}
}

// TestAssuranceOnRealDirectories: a mailbox-only account is escalated
// (no code ever goes to the work mailbox); an account with an authenticator
// cannot be reset without it; a common password is refused with a plain
// reason.
func TestAssuranceOnRealDirectories(t *testing.T) {
	for _, tc := range assuranceCases() {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.rig(t, 8) // a low minimum, so the common-password check is what refuses
			tc.strip(t)

			// Mailbox only: the email choice is offered as to anyone (no
			// oracle), but nothing is sent, and the way out is the help desk.
			sent := len(r.a.Outbox.Messages())
			r.expect(r.send("slack", "M1", start(flows.FlowReset)), "identify", "identify.prompt")
			r.expect(r.send("slack", "M1", text(tc.mailboxOnly)), "verify_factor", "totp.prompt")
			r.expect(r.send("slack", "M1", choice("email")), "verify_factor", "code.prompt.email")
			if got := r.a.Outbox.Messages()[sent:]; len(got) != 0 {
				t.Fatalf("a mailbox-only account was sent %d messages (%s)", len(got), got[0].Message.Summary)
			}
			r.expect(r.send("slack", "M1", choice("resend")), "verify_factor", "code.prompt.email")
			r.expect(r.send("slack", "M1", choice("none")), "escalated", "escalate.done")

			// The authenticator, bound the way enrollment binds it.
			seed := bindApp(t, r, tc.withApp)
			r.expect(r.send("slack", "A1", start(flows.FlowReset)), "identify", "identify.prompt")
			r.expect(r.send("slack", "A1", text(tc.withApp)), "verify_factor", "totp.prompt")
			r.expect(r.send("slack", "A1", choice("sms")), "verify_factor", "code.prompt.sms")
			// After the text message only the authenticator is asked for;
			// email is not accepted in its place.
			r.expect(r.send("slack", "A1", text(r.code())), "verify_factor", "verify.need_strongest")
			r.expect(r.send("slack", "A1", choice("email")), "verify_factor", engine.MsgBadChoice)
			code, err := potp.GenerateCode(seed, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			r.secrets = append(r.secrets, code, seed)
			r.expect(r.send("slack", "A1", text(code)), "new_password", "password.prompt")

			// Password123! is refused as common, with the reason in words.
			rep := r.send("slack", "A1", masked("Password123!", "Password123!"))
			r.expect(rep, "new_password", "password.rejected.common")
			if err := tc.bind(t, "Password123!"); err == nil {
				t.Fatal("the refused password was set")
			}
			const pw = "Cobalt-Lantern-Meadow-41"
			r.expect(r.send("slack", "A1", masked(pw, pw)), "done", "reset.done")
			if err := tc.bind(t, pw); err != nil {
				t.Fatalf("the new password does not bind: %v", err)
			}
			r.assertNoLeaks(pw, "Password123!")
		})
	}
}

// bindApp enrolls an authenticator for login through the app's enrollable
// method (what the enroll flow does after its checks) and returns the seed.
func bindApp(t *testing.T, r *rig, login string) string {
	t.Helper()
	ctx := context.Background()
	users, err := r.a.Directory.Find(ctx, directory.ByLogin, login)
	if err != nil || len(users) != 1 {
		t.Fatalf("find %s: %v", login, err)
	}
	u := users[0]
	_, en, ok := r.a.Methods.Enroller()
	if !ok {
		t.Fatal("no enrollable method")
	}
	sub := identity.Subject{Key: u.Directory + ":" + u.ID, Login: u.Login, Mobile: u.Mobile}
	e, err := en.Begin(ctx, sub)
	if err != nil {
		t.Fatal(err)
	}
	seed := e.Secret.Reveal()
	// Confirm with the previous step's code, so the reset can use the
	// current one (each step is accepted once).
	code, err := potp.GenerateCode(seed, time.Now().Add(-30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if res, err := en.Confirm(ctx, sub, secret.New(code)); err != nil || res != identity.Verified {
		t.Fatalf("confirm: %v %v", res, err)
	}
	r.secrets = append(r.secrets, seed, code)
	return seed
}
