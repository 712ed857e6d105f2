package plugins_test

import (
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/internal/configtest"
	"github.com/resetbot/resetbot/plugins"
)

// The directory plug-ins validate their own blocks; these tests load whole
// files as check-config and serve do, so each problem is also proved to
// carry its setting path and line.

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
	configtest.CheckSection(t, plugins.All, demoAD, "directories[0].ad", []configtest.Case{
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
	configtest.CheckSection(t, plugins.All, ad, "directories[0].ad", []configtest.Case{
		{"two filters", "      user_filter: (a=b)(c=d)\n", "directories[0].ad.user_filter"},
		{"good filter", "      user_filter: (memberOf=CN=Staff,DC=ad,DC=corp,DC=example)\n", ""},
		{"bad login", "      attributes: {login: \"uid)(x=*\"}\n", "directories[0].ad.attributes.login"},
		{"bad surname", "      attributes: {surname: \"s n\"}\n", "directories[0].ad.attributes.surname"},
		{"upn login", "      attributes: {login: userPrincipalName}\n", ""},
	})
	ldap := strings.Replace(strings.Replace(ad, "type: ad", "type: ldap", 1), "    ad:\n", "    ldap:\n", 1)
	ldap = strings.Replace(ldap, "      domain: ad.corp.example\n", "", 1)
	configtest.CheckSection(t, plugins.All, ldap, "directories[0].ldap", []configtest.Case{
		{"protected_filter", "      protected_filter: (employeeType=admin)\n", ""},
		{"bad protected_filter", "      protected_filter: employeeType=admin\n", "directories[0].ldap.protected_filter"},
	})
}
