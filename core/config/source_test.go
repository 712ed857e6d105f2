package config_test

import (
	"os"
	"path/filepath"
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
