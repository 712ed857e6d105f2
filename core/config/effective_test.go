package config_test

import (
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/plugins"
)

// TestSummaryShowsEffectiveDefaults: `check-config -summary` shows the values
// in force (gather_timeout: 6s), not the zero values the adapters replace.
// Channel plug-ins that do the same (EffectiveConfig) are tested in their
// packages.
func TestSummaryShowsEffectiveDefaults(t *testing.T) {
	cfg := config.Default(plugins.All())
	sum := cfg.Redacted()
	for _, want := range []string{"gather_timeout: 6s", "request_timeout: 10s", "sms_api: messages", "voice_reset: passphrase_sms", "max_sends_per_hour: 500"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q", want)
		}
	}
	for _, bad := range []string{"gather_timeout: 0s", "max_sends_per_hour: 0"} {
		if strings.Contains(sum, bad) {
			t.Errorf("summary shows %q", bad)
		}
	}
}

// TestEffectiveDefaultsMatchTheExample: the defaults shown by the summary are
// the ones example.yaml documents. The channel plug-ins' own defaults are
// checked in their packages (bot/slack, bot/teams).
func TestEffectiveDefaultsMatchTheExample(t *testing.T) {
	cfg, _ := config.Parse(config.ExampleYAML(), nil, plugins.All())
	tw := cfg.Channels.Twilio
	for name, c := range map[string]struct{ got, want any }{
		"twilio.sms_api":            {tw.SMSAPI, config.DefaultTwilioSMSAPI},
		"twilio.voice_reset":        {tw.VoiceReset, config.DefaultTwilioVoiceReset},
		"twilio.gather_timeout":     {tw.GatherTimeout, config.DefaultTwilioGatherTimeout},
		"twilio.request_timeout":    {tw.RequestTimeout, config.DefaultTwilioRequestTimeout},
		"twilio.max_sends_per_hour": {tw.MaxSendsPerHour, config.DefaultTwilioMaxSendsHour},
		"twilio.language_memory":    {tw.LanguageMemory, config.DefaultTwilioLanguageMemory},
		"twilio.languages":          {strings.Join(tw.Languages, ","), strings.Join(config.DefaultTwilioLanguages, ",")},
	} {
		if c.got != c.want {
			t.Errorf("%s: example.yaml says %v, the default is %v", name, c.got, c.want)
		}
	}
}
