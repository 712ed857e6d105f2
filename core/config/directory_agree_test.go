package config_test

import (
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/plugins"
)

// demoAD is a demo-mode document with one AD directory; each case appends
// keys to its ad block.
const demoAD = `mode: demo
directories:
  - name: ad
    type: ad
    ad:
      bind_dn: CN=svc,DC=ad,DC=corp,DC=example
      bind_password: adpw-value
      base_dn: DC=ad,DC=corp,DC=example
      domain: ad.corp.example
`

// TestADPlainRefused: the AD backend refuses ldap:// without StartTLS in
// every mode (AD refuses password writes without TLS), so configuration
// validation refuses it too, in demo mode as well, with a path and a line,
// and refuses allow_plain on an ad block instead of ignoring it.
func TestADPlainRefused(t *testing.T) {
	checkSection(t, demoAD, "directories[0].ad", []sectionCase{
		{"plain in demo", "      url: ldap://dc1.ad.corp.example\n", "directories[0].ad.url"},
		{"allow_plain", "      url: ldap://dc1.ad.corp.example\n      allow_plain: true\n", "directories[0].ad.allow_plain"},
		{"allow_plain with start_tls", "      url: ldap://dc1.ad.corp.example\n      start_tls: true\n      allow_plain: true\n",
			"directories[0].ad.allow_plain"},
		{"start_tls", "      url: ldap://dc1.ad.corp.example\n      start_tls: true\n", ""},
		{"ldaps", "      url: ldaps://dc1.ad.corp.example\n", ""},
	})
	_, probs := config.Parse([]byte(demoAD+"      url: ldap://dc1.ad.corp.example\n      allow_plain: true\n"), nil, plugins.All())
	for _, p := range probs.Errors() {
		if strings.HasPrefix(p.Path, "directories[0].ad.") && p.Line == 0 {
			t.Errorf("%s has no line", p)
		}
	}
}

// TestDirectoryFiltersCompile: user_filter and protected_filter are
// compiled as the backends compile them, so check-config refuses what Open
// would, and attribute names that would break a filter are refused.
func TestDirectoryFiltersCompile(t *testing.T) {
	ad := demoAD + "      url: ldaps://dc1.ad.corp.example\n"
	checkSection(t, ad, "directories[0].ad", []sectionCase{
		{"two filters", "      user_filter: (a=b)(c=d)\n", "directories[0].ad.user_filter"},
		{"good filter", "      user_filter: (memberOf=CN=Staff,DC=ad,DC=corp,DC=example)\n", ""},
		{"bad login", "      attributes: {login: \"uid)(x=*\"}\n", "directories[0].ad.attributes.login"},
		{"bad surname", "      attributes: {surname: \"s n\"}\n", "directories[0].ad.attributes.surname"},
		{"upn login", "      attributes: {login: userPrincipalName}\n", ""},
	})
	ldap := strings.Replace(strings.Replace(ad, "type: ad", "type: ldap", 1), "    ad:\n", "    ldap:\n", 1)
	ldap = strings.Replace(ldap, "      domain: ad.corp.example\n", "", 1)
	checkSection(t, ldap, "directories[0].ldap", []sectionCase{
		{"protected_filter", "      protected_filter: (employeeType=admin)\n", ""},
		{"bad protected_filter", "      protected_filter: employeeType=admin\n", "directories[0].ldap.protected_filter"},
	})
}

// TestRedisTLSFilesNeedTLS: the Redis store refuses ca_file and
// server_name without TLS, so validation does too (it used to warn, and
// serve then failed without a path).
func TestRedisTLSFilesNeedTLS(t *testing.T) {
	base := "mode: demo\nstore:\n  type: redis\n  redis:\n    addrs: [\"127.0.0.1:6379\"]\n    allow_plain: true\n"
	checkSection(t, base, "store.redis", []sectionCase{
		{"ca_file without tls", "    ca_file: /etc/hosts\n", "store.redis.ca_file"},
		{"server_name without tls", "    server_name: redis.corp.example\n", "store.redis.server_name"},
		{"plain", "", ""},
	})
}
