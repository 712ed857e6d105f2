package config_test

import (
	"testing"

	"github.com/resetbot/resetbot/core/config"
)

// TestIdentityMappingValidation: each channel accepts only the sources it
// has, login_prefix needs its domains, and off turns the mapping off.
func TestIdentityMappingValidation(t *testing.T) {
	slack := "mode: demo\nserver: {public_url: \"https://resetbot.test\"}\nchannels:\n  slack:\n    enabled: true\n" +
		"    bot_token: xoxb-1\n    signing_secret: s\n    identity_mapping:\n"
	checkSection(t, slack, "channels.slack.identity_mapping", []sectionCase{
		{"defaults", "      to: \"\"\n", ""},
		{"off", "      from: \"off\"\n", ""},
		{"off unquoted", "      from: off\n", ""},
		{"email to login prefix", "      to: login_prefix\n      domains: [corp.example]\n", ""},
		{"login prefix without domains", "      to: login_prefix\n", "channels.slack.identity_mapping.domains"},
		{"bad domain", "      to: login_prefix\n      domains: [\"@corp\"]\n", "channels.slack.identity_mapping.domains[0]"},
		{"upn is Teams only", "      from: upn\n", "channels.slack.identity_mapping.from"},
		{"unknown target", "      to: telephoneNumber\n", "channels.slack.identity_mapping.to"},
	})
	teams := "mode: demo\nserver: {public_url: \"https://resetbot.test\"}\nchannels:\n  teams:\n    enabled: true\n" +
		"    app_id: a\n    app_password: p\n    tenant_id: t\n    identity_mapping:\n"
	checkSection(t, teams, "channels.teams.identity_mapping", []sectionCase{
		{"upn", "      from: upn\n", ""},
		{"object id to employee number", "      from: object_id\n      to: employee_number\n", ""},
		{"object id to email", "      from: object_id\n      to: email\n", "channels.teams.identity_mapping.to"},
		{"unknown source", "      from: phone\n", "channels.teams.identity_mapping.from"},
	})
	for _, tc := range []struct {
		in       config.IdentityMapping
		teams    bool
		from, to string
	}{
		{config.IdentityMapping{}, false, config.MapFromEmail, config.MapToEmail},
		{config.IdentityMapping{}, true, config.MapFromEmail, config.MapToEmail},
		{config.IdentityMapping{From: config.MapFromUPN}, true, config.MapFromUPN, config.MapToLogin},
		{config.IdentityMapping{From: config.MapFromEmail}, true, config.MapFromEmail, config.MapToEmail},
	} {
		got := tc.in.WithDefaults(tc.teams)
		if got.From != tc.from || got.To != tc.to {
			t.Errorf("WithDefaults(%+v, teams=%v) = %+v, want %s -> %s", tc.in, tc.teams, got, tc.from, tc.to)
		}
	}
}
