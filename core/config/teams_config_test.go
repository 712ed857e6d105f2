package config_test

import (
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/config"
)

func TestTeamsValidation(t *testing.T) {
	base := "mode: demo\nchannels:\n  teams:\n    enabled: true\n    app_id: 00000000-0000-0000-0000-0000000a9901\n" +
		"    app_password: pw\n    tenant_id: 11111111-2222-3333-4444-555555555555\n"
	cases := []struct {
		name  string
		extra string
		want  string // a problem path, or "" for none
	}{
		{"minimal", "", ""},
		{"help desk fields", "    service_url: https://smba.trafficmanager.net/emea/\n" +
			"    agent_ids: [aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee]\n", ""},
		{"http service url", "    service_url: http://smba.trafficmanager.net/emea/\n", "channels.teams.service_url"},
		{"service url off the allowlist", "    service_url: https://evil.example/\n", "channels.teams.service_url"},
		{"service url with userinfo", "    service_url: https://u:p@smba.trafficmanager.net/\n", "channels.teams.service_url"},
		{"agent id that is an address", "    agent_ids: [\"alice@corp.example\"]\n", "channels.teams.agent_ids[0]"},
		{"empty agent id", "    agent_ids: [\"\"]\n", "channels.teams.agent_ids[0]"},
		{"bad actions", "    actions: click\n", "channels.teams.actions"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, all := config.Parse([]byte(base+tc.extra), nil)
			var probs config.Problems
			for _, p := range all.Errors() {
				if strings.HasPrefix(p.Path, "channels.teams") {
					probs = append(probs, p)
				}
			}
			got := probs.Error()
			if tc.want == "" && len(probs) > 0 {
				t.Fatalf("unexpected problems:\n%s", got)
			}
			if tc.want != "" && !strings.Contains(got, tc.want) {
				t.Fatalf("want a problem at %s, got:\n%s", tc.want, got)
			}
		})
	}
}
