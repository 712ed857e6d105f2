package teams_test

import (
	"strings"
	"testing"

	"github.com/resetbot/resetbot/bot/teams"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/internal/configtest"
	"github.com/resetbot/resetbot/plugins"
)

func TestTeamsValidation(t *testing.T) {
	base := "mode: demo\nchannels:\n  teams:\n    enabled: true\n    app_id: 00000000-0000-0000-0000-0000000a9901\n" +
		"    app_password: pw\n    tenant_id: 11111111-2222-3333-4444-555555555555\n"
	configtest.CheckSection(t, plugins.All, base, "channels.teams", []configtest.Case{
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
		{"no app id", "    app_id: \"\"\n", "channels.teams.app_id"},
		{"tenant as url", "    tenant_id: https://login.example/t\n", "channels.teams.tenant_id"},
		{"help-desk channel", "    help_desk_channel: \"19:help@thread.tacv2\"\n", ""},
		{"help-desk channel by name", "    help_desk_channel: help-desk\n", "channels.teams.help_desk_channel"},
		{"upn mapping", "    identity_mapping: {from: upn}\n", ""},
		{"object id to email", "    identity_mapping: {from: object_id, to: email}\n", "channels.teams.identity_mapping.to"},
		{"timeout too long", "    timeout: 2m\n", "channels.teams.timeout"},
	})
	configtest.CheckSection(t, plugins.All, base, "server.public_url", []configtest.Case{
		{"enrollment page needs a public URL", "", "server.public_url"},
		{"chat delivery needs none", "    enroll_delivery: chat\n", ""},
	})
}

// TestTeamsEffectiveDefaults: the summary shows the Bot Framework endpoints
// in force; example.yaml documents the timeout default; the environment
// reaches the block (secrets included).
func TestTeamsEffectiveDefaults(t *testing.T) {
	cfg, probs := config.Parse([]byte("mode: demo\nchannels:\n  teams: {actions: execute}\n"),
		[]string{"RESETBOT_CHANNELS__TEAMS__APP_PASSWORD=true"}, plugins.All())
	for _, p := range probs.Errors() { // the rest of the file is not this test's
		if strings.HasPrefix(p.Path, "channels.teams") {
			t.Fatal(probs.Error())
		}
	}
	tc := cfg.Channels.Plugins["teams"].(*teams.Config)
	if tc.AppPassword.Reveal() != "true" || tc.Actions != teams.ActionsExecute || tc.Issuer != "" {
		t.Errorf("decoded %+v", tc)
	}
	sum := cfg.Redacted()
	for _, want := range []string{"issuer: " + teams.DefaultIssuer, "timeout: 10s", "actions: execute", "- smba.trafficmanager.net"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q", want)
		}
	}
	ex, _ := config.Parse(config.ExampleYAML(), nil, plugins.All())
	if got := ex.Channels.Plugins["teams"].(*teams.Config).Timeout; got != teams.DefaultTimeout {
		t.Errorf("example.yaml says timeout %v, the default is %v", got, teams.DefaultTimeout)
	}
}
