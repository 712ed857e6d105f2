package config_test

import (
	"testing"

	"github.com/resetbot/resetbot/core/config"
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
		{"handoff command is unlock", "    handoff_command: /unlock\n", "channels.slack.handoff_command"},
		{"handoff command not a command", "    handoff_command: handoff\n", "channels.slack.handoff_command"},
	})
	if got := (config.SlackConfig{}).Handoff(); got != config.DefaultSlackHandoffCommand {
		t.Fatalf("default handoff command %q", got)
	}
}
