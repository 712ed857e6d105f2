package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	slackbot "github.com/resetbot/resetbot/bot/slack"
)

func TestSlackManifestCommand(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "c.yaml")
	cfg := `mode: demo
server: {public_url: "https://bot.example"}
store: {type: memory}
directories: [{name: demo, type: memory, domains: [example.com]}]
notify: {outbox: true, sms: {provider: outbox}}
channels:
  slack: {enabled: true, signing_secret: s, bot_token: xoxb-1, reset_command: /pw}
`
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, url string
		want            []string
		socket          bool
	}{
		{"config file", cfgFile, "", []string{"https://bot.example/slack/events", "/pw", "/unlock"}, false},
		{"demo socket mode", "", "", []string{"/resetpassword"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := writeSlackManifest(&out, &errOut, tc.path, tc.url, false); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			var m slackbot.Manifest
			if err := yaml.Unmarshal(out.Bytes(), &m); err != nil {
				t.Fatal(err)
			}
			if m.Settings.SocketModeEnabled != tc.socket {
				t.Errorf("socket_mode_enabled = %v", m.Settings.SocketModeEnabled)
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("manifest lacks %q:\n%s", w, out.String())
				}
			}
			if strings.Contains(out.String(), "xoxb-1") {
				t.Error("manifest contains the bot token")
			}
		})
	}
}

// TestSlackManifestBeforeSecrets: the manifest comes first in a Slack setup
// (Slack issues the token and signing secret after it is pasted), so a
// production file without them still prints it, with a warning — as
// teams-package does.
func TestSlackManifestBeforeSecrets(t *testing.T) {
	cfgFile := filepath.Join(t.TempDir(), "c.yaml")
	cfg := "server: {public_url: \"https://bot.example\"}\nchannels:\n  slack: {enabled: true}\n"
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := writeSlackManifest(&out, &errOut, cfgFile, "", false); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "https://bot.example/slack/events") {
		t.Errorf("no manifest:\n%s", out.String())
	}
	if !strings.Contains(errOut.String(), "warning") || !strings.Contains(errOut.String(), "signing_secret") {
		t.Errorf("no warning about the missing secrets:\n%s", errOut.String())
	}
	// What the manifest is built from is still required.
	_ = os.WriteFile(cfgFile, []byte("channels:\n  slack: {enabled: true}\n"), 0o600)
	if code := writeSlackManifest(&bytes.Buffer{}, &bytes.Buffer{}, cfgFile, "", false); code == 0 {
		t.Error("a manifest without public_url (and not Socket Mode) was printed")
	}
}
