package config_test

import (
	"testing"
)

func TestTeamsValidation(t *testing.T) {
	base := "mode: demo\nchannels:\n  teams:\n    enabled: true\n    app_id: 00000000-0000-0000-0000-0000000a9901\n" +
		"    app_password: pw\n    tenant_id: 11111111-2222-3333-4444-555555555555\n"
	checkSection(t, base, "channels.teams", []sectionCase{
		{"minimal", "", ""},
		{"help desk fields", "    service_url: https://smba.trafficmanager.net/emea/\n" +
			"    agent_ids: [aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee]\n", ""},
		{"http service url", "    service_url: http://smba.trafficmanager.net/emea/\n", "channels.teams.service_url"},
		{"service url off the allowlist", "    service_url: https://evil.example/\n", "channels.teams.service_url"},
		{"service url with userinfo", "    service_url: https://u:p@smba.trafficmanager.net/\n", "channels.teams.service_url"},
		{"agent id that is an address", "    agent_ids: [\"alice@corp.example\"]\n", "channels.teams.agent_ids[0]"},
		{"empty agent id", "    agent_ids: [\"\"]\n", "channels.teams.agent_ids[0]"},
		{"bad actions", "    actions: click\n", "channels.teams.actions"},
		{"bad enroll delivery", "    enroll_delivery: sms\n", "channels.teams.enroll_delivery"},
	})
	checkSection(t, base, "server.public_url", []sectionCase{
		{"enrollment page needs a public URL", "", "server.public_url"},
		{"chat delivery needs none", "    enroll_delivery: chat\n", ""},
	})
}
