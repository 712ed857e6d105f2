package config_test

import (
	"github.com/resetbot/resetbot/internal/configtest"
	"github.com/resetbot/resetbot/plugins"
	"testing"
)

func TestTwilioValidation(t *testing.T) {
	base := "mode: demo\nserver:\n  public_url: https://bot.example.com\nchannels:\n  twilio:\n" +
		"    enabled: true\n    account_sid: AC1\n    auth_token: tok\n    from_number: \"+15555550100\"\n"
	configtest.CheckSection(t, plugins.All, base, "channels.twilio", []configtest.Case{
		{"minimal", "", ""},
		{"every field", "    sms_api: verify\n    verify_service_sid: VA1\n    voice_reset: unlock_only\n" +
			"    languages: [es, en]\n    gather_timeout: 5s\n    request_timeout: 5s\n    allowed_prefixes: [\"+1\", \"+44\"]\n" +
			"    blocked_callers: [\"+1900\"]\n    max_sends_per_hour: 100\n", ""},
		{"unknown sms api", "    sms_api: carrier-pigeon\n", "channels.twilio.sms_api"},
		{"verify without service", "    sms_api: verify\n", "channels.twilio.verify_service_sid"},
		{"bad voice reset", "    voice_reset: speak_it\n", "channels.twilio.voice_reset"},
		{"language without catalog", "    languages: [tlh]\n", "channels.twilio.languages"},
		{"bad prefix", "    allowed_prefixes: [\"44\"]\n", "channels.twilio.allowed_prefixes"},
		{"bad blocked caller", "    blocked_callers: [\"anonymous\"]\n", "channels.twilio.blocked_callers"},
		{"negative budget", "    max_sends_per_hour: -1\n", "channels.twilio.max_sends_per_hour"},
		{"number languages", "    languages: [en, es, fr]\n    numbers: {\"+34910000000\": es, \"+33140000000\": fr}\n" +
			"    language_memory: 720h\n", ""},
		{"number language not offered", "    languages: [en, es]\n    numbers: {\"+33140000000\": fr}\n",
			"channels.twilio.numbers.+33140000000"},
		{"number not e164", "    numbers: {\"0034910000000\": es}\n", "channels.twilio.numbers"},
		{"language memory off", "    language_memory: -1s\n", ""},
		{"language memory too long", "    language_memory: 100000h\n", "channels.twilio.language_memory"},
		{"long gather timeout", "    gather_timeout: 2m\n", "channels.twilio.gather_timeout"},
		{"edge and region", "    edge: dublin\n    region: ie1\n", ""},
		{"api base url", "    api_base_url: https://twilio-proxy.corp.example\n", ""},
		{"unknown edge", "    edge: atlantis\n", "channels.twilio.edge"},
		{"bad region", "    region: europe\n", "channels.twilio.region"},
		{"plain http base", "    api_base_url: http://twilio-proxy.corp.example\n", "channels.twilio.api_base_url"},
		{"base url with edge", "    api_base_url: https://p.example\n    edge: sydney\n", "channels.twilio.api_base_url"},
	})
}
