package config_test

import (
	"testing"

	"github.com/resetbot/resetbot/internal/configtest"
	"github.com/resetbot/resetbot/plugins"
)

// TestOutreachConfig: the outreach section is checked only when the
// watcher is on, and every problem names its path.
func TestOutreachConfig(t *testing.T) {
	base := "mode: demo\ndirectories:\n  - name: demo\n    type: memory\n    domains: [demo.example]\n" +
		"  - name: corp\n    type: ldap\n    domains: [corp.example]\n" +
		"    ldap: {url: ldaps://ldap.corp.example, bind_dn: cn=bot, bind_password: x, base_dn: dc=corp}\n" +
		"channels:\n  slack: {enabled: true}\noutreach:\n"
	on := "  lockout:\n    enabled: true\n"
	configtest.CheckSection(t, plugins.All, base, "outreach", []configtest.Case{
		{"valid", on, ""},
		{"off is not checked", "  lockout: {enabled: false, interval: 1ms}\n", ""},
		{"interval too short", on + "    interval: 100ms\n", "outreach.lockout.interval"},
		{"unknown directory", on + "    directories: [{name: nope}]\n", "outreach.lockout.directories[0].name"},
		{"memory directory", on + "    directories: [{name: demo}]\n", "outreach.lockout.directories[0].name"},
		{"ldap directory", on + "    directories: [{name: corp}]\n", ""},
		{"base not a DN", on + "    directories: [{name: corp, bases: [people]}]\n", "outreach.lockout.directories[0].bases[0]"},
		{"group not a DN", on + "    directories: [{name: corp, groups: [\"x\"]}]\n", "outreach.lockout.directories[0].groups[0]"},
		{"channel not enabled", on + "  channels: [teams]\n", "outreach.channels[0]"},
		{"unknown channel", on + "  channels: [fax]\n", "outreach.channels[0]"},
		{"bad quiet start", on + "  quiet_hours: {start: \"25:00\", end: \"07:00\"}\n", "outreach.quiet_hours.start"},
		{"bad zone", on + "  quiet_hours: {start: \"22:00\", end: \"07:00\", time_zone: Mars/Olympus}\n", "outreach.quiet_hours.time_zone"},
		{"spray of one", on + "  spray: {accounts: 1}\n", "outreach.spray.accounts"},
		{"no rate", on + "  rate_per_user: 0\n", "outreach.rate_per_user"},
		{"lease too short", on + "  lease_ttl: 10ms\n", "outreach.lease_ttl"},
	})
}
