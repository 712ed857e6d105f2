package flows_test

import (
	"context"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/directory/ldap"
	"github.com/resetbot/resetbot/core/secret"
	storemem "github.com/resetbot/resetbot/core/store/memory"
	"github.com/resetbot/resetbot/flows"
	"github.com/resetbot/resetbot/internal/testserver"
)

// TestSlapdRetriedChangeNotRefusedByHistory: on a real OpenLDAP with
// ppolicy's pwdInHistory (3), the change's password is set, then the
// turn's commit is lost; the redelivery ends done instead of being refused
// for reusing the password just set, and the owner is noticed once.
// Without the per-delivery record, slapd refuses the second write.
func TestSlapdRetriedChangeNotRefusedByHistory(t *testing.T) {
	s := testserver.Slapd(t)
	ctx := context.Background()
	dir, err := ldap.Open(ctx, ldap.Config{Settings: ldap.Settings{URL: s.LDAPSURL, CAFile: s.CAFile,
		BindDN: testserver.SlapdBotDN, BindPassword: secret.New(testserver.SlapdBotPW),
		BaseDN: testserver.SlapdPeopleDN, ProtectedGroups: []string{testserver.SlapdTier0DN},
		Attributes:  ldap.AttrMap{RecoveryEmail: testserver.SlapdRecoveryAttr},
		DialTimeout: 2 * time.Second, RequestTimeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dir.Close() })
	router, err := directory.NewRouter(directory.Route{Name: "openldap", Dir: dir, Domains: []string{"example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	fs := &flakyStore{turnStore: storemem.New()}
	h := newHarnessOn(t, fs, func(d *flows.Deps) { d.Directory = router; d.Counters = fs })
	alice := testserver.SlapdUsers[0]
	h.deliver("slack", "U1", "Ev1", choice("flow:"+flows.FlowChange))
	h.deliver("slack", "U1", "Ev2", text(alice.Login))
	h.deliver("slack", "U1", "Ev3", choice("sms"))
	h.deliver("slack", "U1", "Ev4", text(h.code()))
	if r := h.deliver("slack", "U1", "Ev5", text(h.code())); r.State != "change_password" {
		t.Fatalf("change in %s %v, want the password form", r.State, r.Outputs)
	}
	const pw = "Quartz-Meadow-Lantern-8"
	h.secrets = append(h.secrets, pw, alice.Password)
	r := h.lostThenRedelivered(fs, time.Minute, "slack", "U1", "Ev6", masked(pw, pw))
	if r.State != "done" || !r.Ended {
		t.Fatalf("redelivered change ended in %s %v, want done", r.State, r.Outputs)
	}
	c, err := goldap.DialURL(s.LDAPSURL, goldap.DialWithTLSConfig(s.TLSConfig()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Bind(alice.DN(), pw); err != nil {
		t.Fatalf("the new password does not bind: %v", err)
	}
	assertNoticed(t, h, "notice.change", "sms:"+alice.Mobile, "email:"+alice.RecoveryEmail(), "chat:"+alice.Email)
	if n := countDone(h, "change.done"); n != 1 {
		t.Fatalf("%d successful change.done records, want 1", n)
	}
	h.assertNoLeaks()
}
