package app_test

import (
	"context"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/internal/testserver"
)

// Each directory maps "mobile" to its own attribute, filled here with a
// number no other directory holds, so the SMS destination proves which
// directory and which mapping answered.
const (
	multiSlapdPager = "+15555550901" // slapd: mobile -> pager
	multiSambaPhone = "+15555550902" // Samba: mobile -> telephoneNumber
)

const multiDirs = `  - name: demo
    type: memory
    domains: [demo.example]
  - name: {{.SlapdName}}
    type: ldap
    domains: [example.org]
    ldap:
      url: {{.Slapd.LDAPSURL}}
      ca_file: {{.SlapdCA}}
      bind_dn: ` + testserver.SlapdBotDN + `
      bind_password: ` + testserver.SlapdBotPW + `
      base_dn: ` + testserver.SlapdPeopleDN + `
      attributes: {mobile: pager, recovery_email: ` + testserver.SlapdRecoveryAttr + `}
  - name: {{.SambaName}}
    type: ad
    domains: [` + testserver.SambaDomain + `]
    ad:
      url: {{.Samba.URL}}
      ca_file: {{.SambaCA}}
      bind_dn: "{{.SambaBotDN}}"
      bind_password: "{{.SambaBotPW}}"
      base_dn: ` + testserver.SambaPeopleOU + `
      domain: ` + testserver.SambaDomain + `
      attributes: {mobile: telephoneNumber, recovery_email: ` + testserver.SambaRecoveryAttr + `}
`

// TestSeveralDirectories configures the memory demo directory, slapd and
// Samba in one instance: an email domain or a UPN suffix picks the
// directory, each directory's own attribute mapping gives the SMS number,
// and each reset lands on the right server.
func TestSeveralDirectories(t *testing.T) {
	sl := testserver.Slapd(t)
	sa := testserver.SambaDC(t)
	m := ldap.NewModifyRequest(slapdAlice.DN(), nil)
	m.Replace("pager", []string{multiSlapdPager})
	if err := slapdRoot(t, sl).Modify(m); err != nil {
		t.Fatalf("set pager: %v", err)
	}
	jdoe := testserver.SambaJDoe
	m = ldap.NewModifyRequest(jdoe.DN, nil)
	m.Replace("telephoneNumber", []string{multiSambaPhone})
	if err := sa.Admin(t).Modify(m); err != nil {
		t.Fatalf("set telephoneNumber: %v", err)
	}
	e := slapdEnv(sl)
	se := sambaEnv(sa)
	e.Samba, e.SambaCA, e.SambaName, e.SambaBotDN, e.SambaBotPW = se.Samba, se.SambaCA, se.SambaName, se.SambaBotDN, se.SambaBotPW
	r := newRig(t, yamlConfig(t, demoHead+multiDirs, e))

	for _, tc := range []struct {
		typed, dir, sms string
	}{
		{slapdAlice.Email, "openldap", multiSlapdPager},       // email domain example.org
		{jdoe.UPN, "samba", multiSambaPhone},                  // UPN suffix samdom.example.org
		{"alice.martin@demo.example", "demo", "+15555550101"}, // the demo domain
	} {
		t.Run(tc.dir, func(t *testing.T) {
			users, err := r.a.Directory.Find(context.Background(), directory.ByEmail, tc.typed)
			if tc.dir == "samba" {
				users, err = r.a.Directory.Find(context.Background(), directory.ByLogin, tc.typed)
			}
			if err != nil || len(users) != 1 || users[0].Directory != tc.dir || users[0].Mobile != tc.sms {
				t.Fatalf("Find(%s) = %+v, %v; want one user in %s with mobile %s", tc.typed, users, err, tc.dir, tc.sms)
			}
			pw := "Harbor-Tulip-Granite-" + tc.dir
			rep := r.chatReset("M-"+tc.dir, tc.typed, pw)
			r.expect(rep, "done", "reset.done")
			var smsTo []string
			for _, d := range r.a.Outbox.Messages() {
				if d.Channel == notify.ChannelSMS {
					smsTo = append(smsTo, d.Message.To)
				}
			}
			if len(smsTo) == 0 || smsTo[len(smsTo)-1] != tc.sms {
				t.Fatalf("SMS went to %v, want %s", smsTo, tc.sms)
			}
			switch tc.dir {
			case "openldap":
				if err := slapdBind(t, sl, slapdAlice.DN(), pw); err != nil {
					t.Fatalf("slapd bind: %v", err)
				}
			case "samba":
				if err := sa.Bind(jdoe.UPN, pw); err != nil {
					t.Fatalf("samba bind: %v", err)
				}
			}
			r.secrets = append(r.secrets, pw)
		})
	}
	// The same bare employee number exists in slapd and Samba: the router
	// asks both, so identification must disambiguate rather than guess.
	users, err := r.a.Directory.Find(context.Background(), directory.ByEmployeeNumber, "1001")
	if err != nil || len(users) != 2 {
		t.Fatalf("Find(employee 1001) = %+v, %v; want one in each LDAP directory", users, err)
	}
	if err := r.a.Check(context.Background()); err != nil {
		t.Fatalf("check with three directories: %v", err)
	}
	r.assertNoLeaks()
}
