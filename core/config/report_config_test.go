package config_test

import (
	"testing"

	"github.com/resetbot/resetbot/internal/configtest"
	"github.com/resetbot/resetbot/plugins"
)

// TestAlarmDestinations: chat destinations need an enabled adapter and a
// target in its platform's form, once each.
func TestAlarmDestinations(t *testing.T) {
	base := "mode: demo\nchannels:\n  slack: {enabled: true, signing_secret: s0123456789abcdef, bot_token: xoxb-1}\nalarms:\n"
	configtest.CheckSection(t, plugins.All, base, "alarms", []configtest.Case{
		{"slack channel", "  destinations: [{channel: slack, target: C0SECURITY1}]\n", ""},
		{"a #name", "  destinations: [{channel: slack, target: '#security'}]\n", "alarms.destinations[0].target"},
		{"teams not enabled", "  destinations: [{channel: teams, target: '19:a@thread.tacv2'}]\n", "alarms.destinations[0].channel"},
		{"unknown platform", "  destinations: [{channel: irc, target: x}]\n", "alarms.destinations[0].channel"},
		{"twice", "  destinations: [{channel: slack, target: C0SECURITY1}, {channel: slack, target: C0SECURITY1}]\n", "alarms.destinations[1]"},
	})
}

// TestReportConfig: prices, the adoption count's bounds and the monthly
// summary's destination and time are checked.
func TestReportConfig(t *testing.T) {
	base := "mode: demo\nchannels:\n  slack: {enabled: true, signing_secret: s0123456789abcdef, bot_token: xoxb-1}\nreport:\n"
	configtest.CheckSection(t, plugins.All, base, "report", []configtest.Case{
		{"defaults", "  cost_per_ticket: 22.5\n", ""},
		{"monthly to slack", "  monthly: {channel: slack, target: C0ITMANAGE, day: 2, hour: 8}\n", ""},
		{"negative cost", "  cost_per_ticket: -1\n", "report.cost_per_ticket"},
		{"currency", "  currency: dollars\n", "report.currency"},
		{"interval", "  adoption_interval: 1s\n", "report.adoption_interval"},
		{"day 31", "  monthly: {channel: slack, target: C0ITMANAGE, day: 31}\n", "report.monthly.day"},
		{"hour 24", "  monthly: {channel: slack, target: C0ITMANAGE, hour: 24}\n", "report.monthly.hour"},
		{"bad target", "  monthly: {channel: slack, target: general}\n", "report.monthly.target"},
	})
}
