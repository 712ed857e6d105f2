package config_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/directory/ldap"
	"github.com/resetbot/resetbot/plugins"
)

// TestProblemsNameTheirSource: a problem points at the operator's file and
// line, or says it comes from the built-in defaults (never a line of a file
// the operator has not seen).
func TestProblemsNameTheirSource(t *testing.T) {
	path := filepath.Join(t.TempDir(), "resetbot.yaml")
	if err := os.WriteFile(path, []byte("mode: demo\nlog:\n  level: loud\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, probs := config.Load(path, nil, plugins.All())
	if got := probs.Error(); !strings.Contains(got, path+":3: log.level:") {
		t.Errorf("file problem does not name %s:3:\n%s", path, got)
	}

	_, probs = config.Load("", []string{"RESETBOT_LOG__LEVEL=loud"}, plugins.All())
	got := probs.Error()
	if !probs.HasErrors() || !strings.Contains(got, "built-in demo configuration") ||
		!strings.Contains(got, "RESETBOT_LOG__LEVEL") || strings.Contains(got, "line ") {
		t.Errorf("env override on the built-in config:\n%s", got)
	}
}

// TestEscalationsNeedADestination: a production config whose escalations go
// nowhere is refused (users would be told "the help desk will contact you").
// The help-desk channels are in each chat channel's own block; the old
// handoff keys are refused with a problem saying where they went.
func TestEscalationsNeedADestination(t *testing.T) {
	_, sections := fixture(t)
	with := sections["channels"] // slack with its help-desk channel, twilio
	slack := strings.Replace(with, "    help_desk_channel: C0123HELP\n", "", 1)
	for _, c := range []struct {
		name, channels, handoff string
		errPath                 string
	}{
		{"none", slack, "handoff: {}\n", "handoff"},
		{"teams channel without teams", slack + "  teams: {help_desk_channel: \"19:abc@thread.tacv2\"}\n", "handoff: {}\n", "handoff"},
		{"ticket webhook", slack, "handoff:\n  ticket_webhook_url: https://itsm.corp.example/hook\n  ticket_webhook_secret: 0123456789abcdef0\n", ""},
		{"slack channel", with, "handoff: {}\n", ""},
		{"old slack key", with, "handoff:\n  help_desk_slack_channel: C0123HELP\n",
			"handoff.help_desk_slack_channel"},
		{"old teams key", with, "handoff:\n  help_desk_teams_channel: \"19:a@thread.tacv2\"\n",
			"handoff.help_desk_teams_channel"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, probs := config.Parse([]byte(render(sections, map[string]string{"channels": c.channels, "handoff": c.handoff})),
				nil, plugins.All())
			got := errorPaths(probs)
			if c.errPath == "" && len(got) != 0 || c.errPath != "" && !slices.Contains(got, c.errPath) {
				t.Errorf("error paths %q, want %q\n%s", got, c.errPath, probs.Error())
			}
		})
	}
	_, probs := config.Parse([]byte(render(sections, map[string]string{"handoff": "handoff:\n  help_desk_teams_channel: \"19:a@thread.tacv2\"\n"})),
		nil, plugins.All())
	if msg := probs.Error(); !strings.Contains(msg, "has moved to channels.teams.help_desk_channel") ||
		!strings.Contains(msg, "RESETBOT_CHANNELS__TEAMS__HELP_DESK_CHANNEL") {
		t.Errorf("the old key's problem does not say where it went:\n%s", msg)
	}
	_, probs = config.Parse([]byte(render(sections, nil)), []string{"RESETBOT_HANDOFF__HELP_DESK_SLACK_CHANNEL=C0123HELP"}, plugins.All())
	if msg := probs.Error(); !strings.Contains(msg, "has moved to channels.slack.help_desk_channel") {
		t.Errorf("the old environment variable's problem does not say where it went:\n%s", msg)
	}
}

// TestTwilioMissing: the Twilio problem names only the settings that are
// missing. (notify.email.ca_file is checked by core/notify/email.)
func TestTwilioMissing(t *testing.T) {
	_, sections := fixture(t)
	channels := "channels:\n  twilio:\n    account_sid: AC123\n    from_number: \"+15551230000\"\n"
	_, probs := config.Parse([]byte(render(sections, map[string]string{"channels": channels})), nil, plugins.All())
	got := probs.Error()
	if !strings.Contains(got, "twilio needs channels.twilio.auth_token") || strings.Contains(got, "account_sid, auth_token") {
		t.Errorf("twilio problem does not name only the token:\n%s", got)
	}
}

// TestProtectedGroupsSplitByYAML: an unquoted DN in a YAML flow list is
// split at its commas; check-config says so instead of protecting nobody.
func TestProtectedGroupsSplitByYAML(t *testing.T) {
	_, sections := fixture(t)
	dirs := func(groups string) string {
		return strings.Replace(sections["directories"], "      base_dn: ou=people,dc=corp,dc=example\n",
			"      base_dn: ou=people,dc=corp,dc=example\n      protected_groups: "+groups+"\n", 1)
	}
	_, probs := config.Parse([]byte(render(sections, map[string]string{"directories": dirs("[cn=admins,ou=groups,dc=corp,dc=example]")})), nil, plugins.All())
	if !slices.Contains(errorPaths(probs), "directories[0].ldap.protected_groups") || !strings.Contains(probs.Error(), "quote") {
		t.Errorf("split DN not reported:\n%s", probs.Error())
	}
	cfg, probs := config.Parse([]byte(render(sections, map[string]string{"directories": dirs(`["cn=admins,ou=groups,dc=corp,dc=example", "cn=a\\,b,dc=corp"]`)})), nil, plugins.All())
	if probs.HasErrors() || len(cfg.Directories[0].Plugin.(*ldap.Config).ProtectedGroups) != 2 {
		t.Errorf("quoted DNs refused:\n%s", probs.Error())
	}
	ex, _ := config.Parse(config.ExampleYAML(), nil, plugins.All())
	if g := ex.Directories[0].Plugin.(*ldap.Config).ProtectedGroups; len(g) != 1 || !strings.HasPrefix(g[0], "cn=admins,ou=groups") {
		t.Errorf("example.yaml protected_groups = %q", g)
	}
}

// TestEnrollRequirementInForce: the enroll requirement shown is the one in
// force — by default the reset's counts; a lower configured value is warned
// about (the flows raise it to the reset's).
func TestEnrollRequirementInForce(t *testing.T) {
	cfg := config.Default(plugins.All())
	if got := cfg.Factors.Require.For("enroll", "slack"); got != cfg.Factors.Require.For("reset", "slack") || got < 2 {
		t.Errorf("default enroll requirement %d, reset %d", got, cfg.Factors.Require.For("reset", "slack"))
	}
	_, probs := config.Parse([]byte("mode: demo\nfactors:\n  require:\n    enroll: {default: 1}\n"), nil, plugins.All())
	var warned bool
	for _, p := range probs.Warnings() {
		warned = warned || p.Path == "factors.require.enroll.default" && strings.Contains(p.Message, "2 is in force")
	}
	if !warned {
		t.Errorf("no warning for an enroll requirement below reset's:\n%s", probs.Error())
	}
}
