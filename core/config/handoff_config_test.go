package config_test

import (
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/plugins"
)

const zeroHash = "sha256:0000000000000000000000000000000000000000000000000000000000000000"

// handoffProblems parses a config with the given handoff block and returns
// the problems reported under handoff.
func handoffProblems(t *testing.T, mode, block string) []string {
	t.Helper()
	_, probs := config.Parse([]byte("mode: "+mode+"\nhandoff:\n"+block), nil, plugins.All())
	var out []string
	for _, p := range probs {
		if strings.HasPrefix(p.Path, "handoff") {
			out = append(out, p.String())
		}
	}
	return out
}

func TestHandoffConfig(t *testing.T) {
	good := "  api_keys:\n    - id: itsm\n      hash: " + zeroHash + "\n      scopes: [handoffs:create, handoffs:read]\n" +
		"      ous: [\"ou=people,dc=corp,dc=example\"]\n" +
		"      webhook_url: https://itsm.example/hook\n      webhook_secret: 0123456789abcdef\n"
	tests := []struct {
		name, mode, block, want string
	}{
		{"valid", "production", good, ""},
		{"defaults", "production", "  api_keys: []\n", ""},
		{"raw key instead of hash", "production", strings.Replace(good, zeroHash, "s3cr3t-key-value", 1), "api_keys[0].hash"},
		{"upper-case hex", "production", strings.Replace(good, "sha256:00", "sha256:AA", 1), "api_keys[0].hash"},
		{"unknown scope", "production", strings.Replace(good, "handoffs:read", "admin", 1), "api_keys[0].scopes"},
		{"bad id", "production", strings.Replace(good, "id: itsm", "id: \"I T\"", 1), "api_keys[0].id"},
		{"http webhook", "production", strings.Replace(good, "https://itsm.example", "http://itsm.example", 1), "api_keys[0].webhook_url"},
		{"http loopback in production", "production", strings.Replace(good, "https://itsm.example", "http://127.0.0.1:9", 1), "api_keys[0].webhook_url"},
		{"http loopback in demo", "demo", strings.Replace(good, "https://itsm.example", "http://127.0.0.1:9", 1), ""},
		{"webhook without secret", "production", strings.Replace(good, "0123456789abcdef", "\"\"", 1), "api_keys[0].webhook_secret"},
		{"short secret", "production", strings.Replace(good, "0123456789abcdef", "short", 1), "api_keys[0].webhook_secret"},
		{"create key without OUs", "production", strings.Replace(good, "      ous: [\"ou=people,dc=corp,dc=example\"]\n", "", 1), "api_keys[0].ous"},
		{"read-only key without OUs", "production", strings.Replace(strings.Replace(good, "      ous: [\"ou=people,dc=corp,dc=example\"]\n", "", 1), "handoffs:create, ", "", 1), ""},
		{"OU that is not a DN", "production", strings.Replace(good, "ou=people,dc=corp,dc=example", "people", 1), "api_keys[0].ous[0]"},
		{"code ttl over 10m", "production", "  code_ttl: 15m\n", "handoff.code_ttl"},
		{"ticket webhook http", "production", "  ticket_webhook_url: http://t.example\n  ticket_webhook_secret: 0123456789abcdef\n", "ticket_webhook_url"},
		{"ticket webhook ok", "production", "  ticket_webhook_url: https://t.example/x\n  ticket_webhook_secret: 0123456789abcdef\n", ""},
		{"duplicate ids", "production", good + strings.Replace(strings.Replace(good, "  api_keys:\n", "", 1), "sha256:00", "sha256:11", 1), "api_keys[1].id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := handoffProblems(t, tt.mode, tt.block)
			all := strings.Join(got, "\n")
			if tt.want == "" && len(got) > 0 || tt.want != "" && !strings.Contains(all, tt.want) {
				t.Fatalf("want problem on %q, got:\n%s", tt.want, all)
			}
			if strings.Contains(all, "0123456789abcdef") || strings.Contains(all, "s3cr3t-key-value") {
				t.Fatalf("a secret is quoted in a problem:\n%s", all)
			}
		})
	}
}

func TestHandoffDefaults(t *testing.T) {
	h := config.Default(plugins.All()).Handoff
	if h.TTL != config.DefaultHandoffTTL || h.CodeTTL != config.DefaultHandoffCodeTTL ||
		h.RatePerMinute != config.DefaultHandoffRatePerMinute || h.WebhookTimeout != config.DefaultHandoffWebhookTimeout {
		t.Fatalf("defaults %+v", h)
	}
}
