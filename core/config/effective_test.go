package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/plugins"
)

// TestSummaryShowsEffectiveDefaults: `check-config -summary` shows the values
// in force (workers: 64), not the zero values the adapters replace.
func TestSummaryShowsEffectiveDefaults(t *testing.T) {
	cfg := config.Default(plugins.All())
	sum := cfg.Redacted()
	for _, want := range []string{"workers: 64", "queue: 256", "gather_timeout: 6s", "request_timeout: 10s",
		"reset_command: /resetpassword", "sms_api: messages", "voice_reset: passphrase_sms", "max_sends_per_hour: 500"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q", want)
		}
	}
	for _, bad := range []string{"workers: 0", "gather_timeout: 0s", "max_sends_per_hour: 0"} {
		if strings.Contains(sum, bad) {
			t.Errorf("summary shows %q", bad)
		}
	}
	if cfg.Channels.Slack.Workers != 0 {
		t.Error("Summary changed the loaded configuration")
	}
}

// TestEffectiveDefaultsMatchTheExample: the defaults shown by the summary are
// the ones example.yaml documents.
func TestEffectiveDefaultsMatchTheExample(t *testing.T) {
	cfg, _ := config.Parse(config.ExampleYAML(), nil, plugins.All())
	s, tw := cfg.Channels.Slack, cfg.Channels.Twilio
	for name, c := range map[string]struct{ got, want any }{
		"slack.workers":             {s.Workers, config.DefaultSlackWorkers},
		"slack.queue":               {s.Queue, config.DefaultSlackQueue},
		"slack.app_name":            {s.AppName, config.DefaultSlackAppName},
		"twilio.sms_api":            {tw.SMSAPI, config.DefaultTwilioSMSAPI},
		"twilio.voice_reset":        {tw.VoiceReset, config.DefaultTwilioVoiceReset},
		"twilio.gather_timeout":     {tw.GatherTimeout, config.DefaultTwilioGatherTimeout},
		"twilio.request_timeout":    {tw.RequestTimeout, config.DefaultTwilioRequestTimeout},
		"twilio.max_sends_per_hour": {tw.MaxSendsPerHour, config.DefaultTwilioMaxSendsHour},
		"twilio.language_memory":    {tw.LanguageMemory, config.DefaultTwilioLanguageMemory},
		"twilio.languages":          {strings.Join(tw.Languages, ","), strings.Join(config.DefaultTwilioLanguages, ",")},
		"teams.timeout":             {cfg.Channels.Teams.Timeout, 10 * time.Second},
	} {
		if c.got != c.want {
			t.Errorf("%s: example.yaml says %v, the default is %v", name, c.got, c.want)
		}
	}
}
