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
