package app_test

import (
	"strings"
	"testing"

	"github.com/resetbot/resetbot/internal/testserver"
)

// TestStartTLSAndServerName: the config's start_tls and server_name reach
// the backends: a reset over ldap:// + StartTLS against slapd and Samba, and
// over ldaps:// to the DC's IP verifying the certificate's DNS name.
func TestStartTLSAndServerName(t *testing.T) {
	const pw = "Lantern-Violet-Ocean-7"
	t.Run("slapd StartTLS", func(t *testing.T) {
		s := testserver.Slapd(t)
		dir := strings.Replace(slapdDir, "url: {{.Slapd.LDAPSURL}}", "url: {{.Slapd.URL}}\n      start_tls: true", 1)
		r := newRig(t, yamlConfig(t, demoHead+dir, slapdEnv(s)))
		r.expect(r.chatReset("T1", slapdAlice.Login, pw), "done", "reset.done")
		if err := slapdBind(t, s, slapdAlice.DN(), pw); err != nil {
			t.Fatalf("bind: %v", err)
		}
	})
	s := testserver.SambaDC(t)
	for _, tc := range []struct{ name, replace string }{
		{"samba StartTLS", "url: {{.Samba.StartTLSURL}}\n      start_tls: true"},
		{"samba server_name", "url: {{.Samba.URL}}\n      server_name: " + testserver.SambaServerName},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := strings.Replace(sambaDir, "url: {{.Samba.URL}}", tc.replace, 1)
			r := newRig(t, yamlConfig(t, demoHead+dir, sambaEnv(s)))
			checkPasses(t, r)
			u := testserver.SambaASmith
			pw := pw + strings.ReplaceAll(tc.name, " ", "-")
			r.expect(r.chatReset("T2", u.Login, pw), "done", "reset.done")
			if err := s.Bind(u.UPN, pw); err != nil {
				t.Fatalf("bind: %v", err)
			}
		})
	}
	t.Run("samba wrong server_name", func(t *testing.T) {
		dir := strings.Replace(sambaDir, "url: {{.Samba.URL}}", "url: {{.Samba.URL}}\n      server_name: dc9.elsewhere.example", 1)
		r := newRig(t, yamlConfig(t, demoHead+dir, sambaEnv(s)))
		checkFails(t, r, testserver.SambaBot.Password, "certificate")
	})
}
