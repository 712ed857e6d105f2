package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store/redis"
	"github.com/resetbot/resetbot/plugins"
)

// TestSecretsNeverPrinted sets every secret to a recognisable value, some in
// the file, some in the environment, some from files, plus secrets that fail
// validation, and checks no output of the package contains any of them.
func TestSecretsNeverPrinted(t *testing.T) {
	dir, sections := fixture(t)
	hmacFile := filepath.Join(dir, "hmac")
	if err := os.WriteFile(hmacFile, []byte("SEKRIT-hmac-from-file-0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	over := map[string]string{
		"store": "store:\n  type: redis\n  redis: {addrs: [\"r:6379\"], tls: true, password: SEKRIT-redis}\n",
		"notify": `notify:
  email: {host: smtp, from: a@b.example, username: u, password: SEKRIT-smtp}
`,
		"channels": `channels:
  slack: {enabled: true, team_ids: [T1], api_app_id: A1, signing_secret: SEKRIT-slack-sign, bot_token: SEKRIT-slack-bot, app_token: SEKRIT-xapp}
  teams: {enabled: true, app_id: id, tenant_id: t, app_password: {nested: SEKRIT-wrong-kind}}
  twilio: {enabled: true, account_sid: AC1, from_number: "+15551230000", auth_token: SEKRIT-twilio}
`,
	}
	env := []string{
		"RESETBOT_KEYS__HMAC_FILE=" + hmacFile,
		"RESETBOT_DIRECTORIES__0__LDAP__BIND_PASSWORD=SEKRIT-bind",
		"RESETBOT_DIRECTORIES__1__AD__URL=ldaps://user:SEKRIT-in-url@dc1",
		"RESETBOT_KEYS__ENCRYPTION=k1:SEKRIT-not-base64",
	}
	cfg, probs := config.Parse([]byte(render(sections, over)), env, plugins.All())
	if cfg == nil || !probs.HasErrors() {
		t.Fatalf("expected a config with errors, got:\n%s", probs.Error())
	}
	if r, ok := cfg.Store.Plugin.(*redis.Config); !ok || r.Password.Reveal() != "SEKRIT-redis" || cfg.Keys.HMAC.Len() == 0 {
		t.Fatalf("secrets not loaded")
	}
	outputs := map[string]string{
		"%+v":        fmt.Sprintf("%+v", cfg),
		"%v":         fmt.Sprintf("%v", *cfg),
		"%#v":        fmt.Sprintf("%#v", cfg),
		"problems":   probs.Error(),
		"Redacted()": cfg.Redacted(),
	}
	for name, out := range outputs {
		if strings.Contains(out, "SEKRIT") {
			i := strings.Index(out, "SEKRIT")
			t.Errorf("%s leaks a secret near %q", name, out[max(0, i-60):min(len(out), i+30)])
		}
	}
	red := cfg.Redacted()
	for _, want := range []string{"password: " + secret.Redacted, "signing_secret: " + secret.Redacted, `app_password: ""`} {
		if !strings.Contains(red, want) {
			t.Errorf("summary lacks %q", want)
		}
	}
}

func TestSummaryRoundTrip(t *testing.T) {
	_, sections := fixture(t)
	cfg, probs := config.Parse([]byte(render(sections, nil)), nil, plugins.All())
	if probs.HasErrors() {
		t.Fatal(probs.Error())
	}
	var b strings.Builder
	if err := cfg.Summary(&b); err != nil {
		t.Fatal(err)
	}
	// The summary parses back (secrets aside) with no unknown keys.
	again, probs := config.Parse([]byte(b.String()), nil, plugins.All())
	for _, p := range probs {
		if strings.Contains(p.Message, "unknown") || strings.Contains(p.Message, "must be a duration") ||
			strings.Contains(p.Message, "must be a whole number") {
			t.Errorf("summary does not parse back: %s", p)
		}
	}
	if again.Server.ReadTimeout != cfg.Server.ReadTimeout || len(again.Directories) != 2 {
		t.Errorf("summary lost values")
	}
}
