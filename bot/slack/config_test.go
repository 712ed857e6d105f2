package slack_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/bot/slack"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/internal/configtest"
	"github.com/resetbot/resetbot/plugins"
)

// The channels.slack block is decoded, defaulted and validated by this
// package's Config through the configuration framework: problems keep their
// paths (channels.slack.*) and messages.

func TestSlackAgentValidation(t *testing.T) {
	base := "mode: demo\nserver: {public_url: \"https://resetbot.test\"}\nchannels:\n  slack:\n    enabled: true\n" +
		"    bot_token: xoxb-1\n    signing_secret: s\n"
	configtest.CheckSection(t, plugins.All, base, "channels.slack", []configtest.Case{
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
		{"help-desk channel", "    help_desk_channel: C0123HELP\n", ""},
		{"help-desk channel by name", "    help_desk_channel: \"#help\"\n", "channels.slack.help_desk_channel"},
	})
	if got := (slack.Config{}).Handoff(); got != slack.DefaultHandoffCommand {
		t.Fatalf("default handoff command %q", got)
	}
}

// TestSlackPinsAndEnrollDelivery: production refuses to run without the
// workspace and app pins; IDs must have the right shape; the enrollment page
// (the default) needs a public URL, and chat delivery is a warned opt-in.
func TestSlackPinsAndEnrollDelivery(t *testing.T) {
	prod := "server: {public_url: \"https://resetbot.test\"}\nchannels:\n  slack:\n    enabled: true\n" +
		"    bot_token: xoxb-1\n    signing_secret: s\n"
	configtest.CheckSection(t, plugins.All, prod, "channels.slack", []configtest.Case{
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
	configtest.CheckSection(t, plugins.All, demo, "server.public_url", []configtest.Case{
		{"page needs a public URL", "", "server.public_url"},
		{"chat needs none", "    enroll_delivery: chat\n", ""},
	})
	_, probs := config.Parse([]byte(demo+"    enroll_delivery: chat\n"), nil, plugins.All())
	if !strings.Contains(probs.Error(), "channels.slack.enroll_delivery") {
		t.Fatalf("chat delivery must be warned about:\n%s", probs.Error())
	}
	if !(slack.Config{}).EnrollPage() || (slack.Config{EnrollDelivery: "chat"}).EnrollPage() {
		t.Fatal("page must be the default and chat the opt-in")
	}
}

func TestSlackAPIURL(t *testing.T) {
	base := "mode: demo\nserver: {public_url: \"https://resetbot.test\"}\nchannels:\n  slack:\n    enabled: true\n" +
		"    bot_token: xoxb-1\n    signing_secret: s\n"
	configtest.CheckSection(t, plugins.All, base, "channels.slack", []configtest.Case{
		{"https proxy", "    api_url: https://slack-proxy.corp.example/api/\n", ""},
		{"loopback http", "    api_url: http://127.0.0.1:8089/api\n", ""},
		{"plain http off host", "    api_url: http://slack-proxy.corp.example/api/\n", "channels.slack.api_url"},
		{"credentials in url", "    api_url: https://u:p@proxy.example/api/\n", "channels.slack.api_url"},
		{"relative", "    api_url: /api/\n", "channels.slack.api_url"},
		{"other scheme", "    api_url: ftp://proxy.example/\n", "channels.slack.api_url"},
	})
	for in, want := range map[string]string{"": "", "https://p.example/api": "https://p.example/api/",
		"https://p.example/api/": "https://p.example/api/"} {
		if got := (slack.Config{APIURL: in}).APIBase(); got != want {
			t.Errorf("APIBase(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSlackIdentityMapping: Slack offers the profile email only; the
// mapping's own checks (bot/chatid) report at the block's path.
func TestSlackIdentityMapping(t *testing.T) {
	base := "mode: demo\nserver: {public_url: \"https://resetbot.test\"}\nchannels:\n  slack:\n    enabled: true\n" +
		"    bot_token: xoxb-1\n    signing_secret: s\n    identity_mapping:\n"
	configtest.CheckSection(t, plugins.All, base, "channels.slack.identity_mapping", []configtest.Case{
		{"defaults", "      to: \"\"\n", ""},
		{"off", "      from: off\n", ""},
		{"login prefix without domains", "      to: login_prefix\n", "channels.slack.identity_mapping.domains"},
		{"upn is Teams only", "      from: upn\n", "channels.slack.identity_mapping.from"},
	})
}

// TestSlackRequired: an enabled block needs its token and, over HTTP, its
// signing secret and the public URL; Socket Mode needs the app token.
func TestSlackRequired(t *testing.T) {
	configtest.CheckSection(t, plugins.All, "mode: demo\nchannels:\n  slack:\n    enabled: true\n", "", []configtest.Case{
		{"token", "", "channels.slack.bot_token"},
		{"signing secret", "", "channels.slack.signing_secret"},
		{"public url", "", "server.public_url"},
		{"app token", "    socket_mode: true\n", "channels.slack.app_token"},
	})
	configtest.CheckSection(t, plugins.All, "mode: demo\nchannels:\n  slack:\n    enabled: false\n", "channels.slack", []configtest.Case{
		{"disabled, nothing checked", "    api_url: ftp://x/\n", ""},
	})
}

// TestSlackSecretFromEnvironment: RESETBOT_CHANNELS__SLACK__* reach the
// block, a secret from a _FILE too, and the summary never prints them.
func TestSlackSecretFromEnvironment(t *testing.T) {
	file := filepath.Join(t.TempDir(), "signing")
	if err := os.WriteFile(file, []byte("from-file-value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, probs := config.Parse([]byte("mode: demo\nserver: {public_url: \"https://resetbot.test\"}\n"), []string{
		"RESETBOT_CHANNELS__SLACK__ENABLED=true",
		"RESETBOT_CHANNELS__SLACK__SIGNING_SECRET_FILE=" + file,
		"RESETBOT_CHANNELS__SLACK__BOT_TOKEN=xoxb-env-value",
		"RESETBOT_CHANNELS__SLACK__WORKERS=12",
	}, plugins.All())
	for _, p := range probs.Errors() { // the rest of the file is not this test's
		if strings.HasPrefix(p.Path, "channels.slack") {
			t.Fatal(probs.Error())
		}
	}
	s, ok := cfg.Channels.Plugins["slack"].(*slack.Config)
	if !ok {
		t.Fatalf("channels.slack decoded into %T", cfg.Channels.Plugins["slack"])
	}
	if !s.Enabled || s.SigningSecret.Reveal() != "from-file-value" || s.BotToken.Reveal() != "xoxb-env-value" || s.Workers != 12 {
		t.Errorf("environment not applied: enabled %v, workers %d", s.Enabled, s.Workers)
	}
	if sum := cfg.Redacted(); strings.Contains(sum, "from-file-value") || strings.Contains(sum, "xoxb-env-value") {
		t.Error("the summary shows a secret")
	}
}

// TestSlackEffectiveDefaults: the summary shows the defaults the adapter
// applies at use, example.yaml documents the same ones, and the loaded
// block keeps its zero values.
func TestSlackEffectiveDefaults(t *testing.T) {
	cfg, _ := config.Parse([]byte("mode: demo\nchannels:\n  slack: {socket_mode: true}\n"), nil, plugins.All())
	sum := cfg.Redacted()
	for _, want := range []string{"workers: 64", "queue: 256", "reset_command: /resetpassword", "handoff_command: /handoff", "app_name: resetbot"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q", want)
		}
	}
	if s := cfg.Channels.Plugins["slack"].(*slack.Config); s.Workers != 0 {
		t.Error("Summary changed the loaded configuration")
	}
	ex, _ := config.Parse(config.ExampleYAML(), nil, plugins.All())
	s := ex.Channels.Plugins["slack"].(*slack.Config)
	for name, c := range map[string]struct{ got, want any }{
		"workers": {s.Workers, slack.DefaultWorkers}, "queue": {s.Queue, slack.DefaultQueue},
		"app_name": {s.AppName, slack.DefaultAppName},
	} {
		if c.got != c.want {
			t.Errorf("%s: example.yaml says %v, the default is %v", name, c.got, c.want)
		}
	}
}
