package config_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/config"
)

// TestProblemsNameTheirSource: a problem points at the operator's file and
// line, or says it comes from the built-in defaults (never a line of a file
// the operator has not seen).
func TestProblemsNameTheirSource(t *testing.T) {
	path := filepath.Join(t.TempDir(), "resetbot.yaml")
	if err := os.WriteFile(path, []byte("mode: demo\nlog:\n  level: loud\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, probs := config.Load(path, nil)
	if got := probs.Error(); !strings.Contains(got, path+":3: log.level:") {
		t.Errorf("file problem does not name %s:3:\n%s", path, got)
	}

	_, probs = config.Load("", []string{"RESETBOT_LOG__LEVEL=loud"})
	got := probs.Error()
	if !probs.HasErrors() || !strings.Contains(got, "built-in demo configuration") ||
		!strings.Contains(got, "RESETBOT_LOG__LEVEL") || strings.Contains(got, "line ") {
		t.Errorf("env override on the built-in config:\n%s", got)
	}
}

// TestEscalationsNeedADestination: a production config whose escalations go
// nowhere is refused (users would be told "the help desk will contact you").
func TestEscalationsNeedADestination(t *testing.T) {
	_, sections := fixture(t)
	for _, c := range []struct {
		name, handoff string
		errPath       string
	}{
		{"none", "handoff: {}\n", "handoff"},
		{"slack channel without slack", "handoff:\n  help_desk_teams_channel: 19:abc@thread.tacv2\n", "handoff"},
		{"ticket webhook", "handoff:\n  ticket_webhook_url: https://itsm.corp.example/hook\n  ticket_webhook_secret: 0123456789abcdef0\n", ""},
		{"slack channel", "handoff:\n  help_desk_slack_channel: C0123HELP\n", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, probs := config.Parse([]byte(render(sections, map[string]string{"handoff": c.handoff})), nil)
			got := errorPaths(probs)
			if c.errPath == "" && len(got) != 0 || c.errPath != "" && !slices.Contains(got, c.errPath) {
				t.Errorf("error paths %q, want %q\n%s", got, c.errPath, probs.Error())
			}
		})
	}
}
