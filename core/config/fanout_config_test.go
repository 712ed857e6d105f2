package config_test

import (
	"github.com/resetbot/resetbot/internal/configtest"
	"github.com/resetbot/resetbot/plugins"
	"strings"
	"testing"
)

// TestFanoutConfig: the fan-out section's structure is checked; each
// target's own block is checked again by its package when the service starts.
func TestFanoutConfig(t *testing.T) {
	base := "mode: demo\ndirectories:\n  - name: demo\n    type: memory\nfanout:\n"
	hook := "      webhook: {url: https://hr.example/h, recipient: age1x, secret: " +
		"0123456789abcdef0123456789abcdef}\n"
	good := "  targets:\n    - name: hr\n      type: webhook\n      label: HR\n      directory: demo\n" + hook
	configtest.CheckSection(t, plugins.All, base, "fanout", []configtest.Case{
		{"valid", good, ""},
		{"window over 10m", "  window: 11m\n" + good, "fanout.window"},
		{"unknown directory", replace(good, "directory: demo", "directory: nope"), "fanout.targets[0].directory"},
		{"no label", replace(good, "label: HR", "label: \"\""), "fanout.targets[0].label"},
		{"block of another type", replace(good, "type: webhook", "type: kerberos"), "fanout.targets[0].webhook"},
		{"unknown type", replace(good, "type: webhook", "type: ftp"), "fanout.targets[0].type"},
		{"timeout over 60s", good + "      timeout: 2m\n", "fanout.targets[0].timeout"},
		{"duplicate name", good + replace(good, "  targets:\n", ""), "fanout.targets[1].name"},
		{"ldap match", "  targets:\n    - name: lab\n      type: ldap\n      label: Lab\n      directory: demo\n" +
			"      ldap: {match: uid, url: ldaps://l.example, bind_dn: cn=x, bind_password: x, base_dn: dc=x}\n",
			"fanout.targets[0].ldap.match"},
	})
}

func replace(s, old, new string) string { return strings.Replace(s, old, new, 1) }
