package config_test

import (
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/plugins"
)

func TestSlackAgentValidation(t *testing.T) {
	base := "mode: demo\nserver: {public_url: \"https://resetbot.test\"}\nchannels:\n  slack:\n    enabled: true\n" +
		"    bot_token: xoxb-1\n    signing_secret: s\n"
	checkSection(t, base, "channels.slack", []sectionCase{
		{"defaults", "", ""},
		{"agents by channel and group", "    handoff_command: /helpdesk\n    agent_channel: C0123ABCD\n" +
			"    agent_user_group: S0123ABCD\n", ""},
		{"private agent channel", "    agent_channel: G0123ABCD\n", ""},
		{"channel name instead of ID", "    agent_channel: \"#helpdesk\"\n", "channels.slack.agent_channel"},
		{"group handle instead of ID", "    agent_user_group: \"@helpdesk\"\n", "channels.slack.agent_user_group"},
		{"user ID as group", "    agent_user_group: U0123ABCD\n", "channels.slack.agent_user_group"},
		{"explicit agents", "    agent_ids: [U0123ABCD, W0123ABCD]\n", ""},
		{"agent by name", "    agent_ids: [\"@alice\"]\n", "channels.slack.agent_ids[0]"},
		{"handoff command is unlock", "    handoff_command: /unlock\n", "channels.slack.handoff_command"},
		{"handoff command not a command", "    handoff_command: handoff\n", "channels.slack.handoff_command"},
	})
	if got := (config.SlackConfig{}).Handoff(); got != config.DefaultSlackHandoffCommand {
		t.Fatalf("default handoff command %q", got)
	}
}

// TestSlackPinsAndEnrollDelivery: production refuses to run without the
// workspace and app pins; IDs must have the right shape; the enrollment page
// (the default) needs a public URL, and chat delivery is a warned opt-in.
func TestSlackPinsAndEnrollDelivery(t *testing.T) {
	prod := "server: {public_url: \"https://resetbot.test\"}\nchannels:\n  slack:\n    enabled: true\n" +
		"    bot_token: xoxb-1\n    signing_secret: s\n"
	checkSection(t, prod, "channels.slack", []sectionCase{
		{"production without pins", "", "channels.slack.team_ids"},
		{"production without app", "    team_ids: [T0123ABCD]\n", "channels.slack.api_app_id"},
		{"production pinned", "    team_ids: [T0123ABCD]\n    api_app_id: A0123ABCD\n", ""},
		{"grid pinned", "    team_ids: [T0123ABCD]\n    api_app_id: A0123ABCD\n    enterprise_id: E0123ABCD\n", ""},
		{"bad team", "    team_ids: [acme]\n    api_app_id: A0123ABCD\n", "channels.slack.team_ids[0]"},
		{"bad enterprise", "    team_ids: [T1]\n    api_app_id: A0123ABCD\n    enterprise_id: T0123\n", "channels.slack.enterprise_id"},
		{"bad app", "    team_ids: [T1]\n    api_app_id: B0123\n", "channels.slack.api_app_id"},
		{"bad delivery", "    team_ids: [T1]\n    api_app_id: A1\n    enroll_delivery: email\n", "channels.slack.enroll_delivery"},
	})
	demo := "mode: demo\nchannels:\n  slack:\n    enabled: true\n    socket_mode: true\n    app_token: xapp-1\n    bot_token: xoxb-1\n"
	checkSection(t, demo, "server.public_url", []sectionCase{
		{"page needs a public URL", "", "server.public_url"},
		{"chat needs none", "    enroll_delivery: chat\n", ""},
	})
	_, probs := config.Parse([]byte(demo+"    enroll_delivery: chat\n"), nil, plugins.All())
	if !strings.Contains(probs.Error(), "channels.slack.enroll_delivery") {
		t.Fatalf("chat delivery must be warned about:\n%s", probs.Error())
	}
	if !(config.SlackConfig{}).EnrollPage() || (config.SlackConfig{EnrollDelivery: "chat"}).EnrollPage() {
		t.Fatal("page must be the default and chat the opt-in")
	}
}

func TestSlackAPIURL(t *testing.T) {
	base := "mode: demo\nserver: {public_url: \"https://resetbot.test\"}\nchannels:\n  slack:\n    enabled: true\n" +
		"    bot_token: xoxb-1\n    signing_secret: s\n"
	checkSection(t, base, "channels.slack", []sectionCase{
		{"https proxy", "    api_url: https://slack-proxy.corp.example/api/\n", ""},
		{"loopback http", "    api_url: http://127.0.0.1:8089/api\n", ""},
		{"plain http off host", "    api_url: http://slack-proxy.corp.example/api/\n", "channels.slack.api_url"},
		{"credentials in url", "    api_url: https://u:p@proxy.example/api/\n", "channels.slack.api_url"},
		{"relative", "    api_url: /api/\n", "channels.slack.api_url"},
		{"other scheme", "    api_url: ftp://proxy.example/\n", "channels.slack.api_url"},
	})
	for in, want := range map[string]string{"": "", "https://p.example/api": "https://p.example/api/",
		"https://p.example/api/": "https://p.example/api/"} {
		if got := (config.SlackConfig{APIURL: in}).APIBase(); got != want {
			t.Errorf("APIBase(%q) = %q, want %q", in, got, want)
		}
	}
}
