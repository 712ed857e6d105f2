package plugins_test

import (
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/config"
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

// sectionCase is one configuration snippet added to a base document and the
// problem path it must produce ("" for none).
type sectionCase struct {
	name  string
	extra string
	want  string
}

// checkSection parses base+extra for each case and checks the errors under
// prefix: none when want is "", otherwise one at want.
func checkSection(t *testing.T, base, prefix string, cases []sectionCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, all := config.Parse([]byte(base+tc.extra), nil, plugins.All())
			var probs config.Problems
			for _, p := range all.Errors() {
				if strings.HasPrefix(p.Path, prefix) {
					probs = append(probs, p)
				}
			}
			got := probs.Error()
			if tc.want == "" && len(probs) > 0 {
				t.Fatalf("unexpected problems:\n%s", got)
			}
			if tc.want != "" && !strings.Contains(got, tc.want) {
				t.Fatalf("want a problem at %s, got:\n%s", tc.want, got)
			}
		})
	}
}
