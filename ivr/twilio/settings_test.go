package twilio_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/notify"
	notifytwilio "github.com/resetbot/resetbot/core/notify/twilio"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/internal/configtest"
	ivr "github.com/resetbot/resetbot/ivr/twilio"
	"github.com/resetbot/resetbot/plugins"
)

// The channels.twilio block is decoded into, defaulted and validated by
// this package's Settings (the phone line) and the Twilio account it embeds
// (core/notify/twilio.Account) through the configuration framework:
// problems keep their paths (channels.twilio.*) and messages.

func TestTwilioValidation(t *testing.T) {
	base := "mode: demo\nserver:\n  public_url: https://bot.example.com\nchannels:\n  twilio:\n" +
		"    enabled: true\n    account_sid: AC1\n    auth_token: tok\n    from_number: \"+15555550100\"\n"
	configtest.CheckSection(t, plugins.All, base, "channels.twilio", []configtest.Case{
		{"minimal", "", ""},
		{"every field", "    sms_api: verify\n    verify_service_sid: VA1\n    voice_reset: unlock_only\n" +
			"    languages: [es, en]\n    gather_timeout: 5s\n    request_timeout: 5s\n    allowed_prefixes: [\"+1\", \"+44\"]\n" +
			"    blocked_callers: [\"+1900\"]\n    max_sends_per_hour: 100\n", ""},
		{"unknown sms api", "    sms_api: carrier-pigeon\n", "channels.twilio.sms_api: must be messages or verify"},
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
		{"help-desk number", "    help_desk_number: \"555\"\n", "channels.twilio.help_desk_number: must be an E.164 number"},
	})
	prod := "server:\n  public_url: https://bot.example.com\nchannels:\n  twilio:\n" +
		"    enabled: true\n    account_sid: AC1\n    auth_token: tok\n    from_number: \"+15555550100\"\n"
	configtest.CheckSection(t, plugins.All, prod, "channels.twilio.help_desk_number", []configtest.Case{
		{"production without a help desk", "", "channels.twilio.help_desk_number: is required when no escalation destination is set"},
		{"production with a help desk", "    help_desk_number: \"+15555550199\"\n", ""},
		{"production with a ticket webhook", "handoff:\n  ticket_webhook_url: https://itsm.example.com/hook\n", ""},
	})
	off := "mode: demo\nchannels:\n  twilio:\n    enabled: false\n"
	configtest.CheckSection(t, plugins.All, off, "channels.twilio", []configtest.Case{
		{"off without account", "", ""},
		{"off still checks the account", "    sms_api: x\n", "channels.twilio.sms_api"},
		{"account sid", "    account_sid: XX\n", "channels.twilio.account_sid: must start with AC"},
		{"from number", "    from_number: \"555\"\n", "channels.twilio.from_number: must be an E.164 number"},
	})
	on := "mode: demo\nchannels:\n  twilio:\n    enabled: true\n"
	configtest.CheckSection(t, plugins.All, on, "channels.twilio", []configtest.Case{
		{"on without sid", "", "channels.twilio.account_sid: is required when twilio is enabled"},
		{"on without token", "", "channels.twilio.auth_token: is required when twilio is enabled"},
		{"on without number", "", "channels.twilio.from_number: is required when twilio is enabled"},
	})
	configtest.CheckSection(t, plugins.All, on, "server.public_url", []configtest.Case{
		{"on without public url", "", "server.public_url: is required when twilio is enabled"},
	})
}

// TestTwilioProvider: notify.sms.provider: twilio asks the channels.twilio
// block's account, naming what it lacks; an unknown provider lists the
// accounts the registry knows.
func TestTwilioProvider(t *testing.T) {
	base := "mode: demo\nfactors: {enabled: [totp, sms]}\nnotify:\n  sms: {provider: twilio}\n"
	configtest.CheckSection(t, plugins.All, base, "notify.sms.provider", []configtest.Case{
		{"no block", "", "twilio needs channels.twilio.account_sid, auth_token and from_number"},
		{"token missing", "channels:\n  twilio: {account_sid: AC1, from_number: \"+15555550100\"}\n",
			"twilio needs channels.twilio.auth_token"},
		{"configured", "channels:\n  twilio: {account_sid: AC1, auth_token: t, from_number: \"+15555550100\"}\n", ""},
	})
	configtest.CheckSection(t, plugins.All, "mode: demo\nnotify:\n  sms: {provider: pigeon}\n", "notify.sms.provider", []configtest.Case{
		{"unknown", "", "must be twilio or outbox"},
	})
}

// TestTwilioEnvironment: RESETBOT_CHANNELS__TWILIO__AUTH_TOKEN_FILE reaches
// the embedded account's token; the summary never shows it.
func TestTwilioEnvironment(t *testing.T) {
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte("token-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"RESETBOT_CHANNELS__TWILIO__AUTH_TOKEN_FILE=" + file, "RESETBOT_CHANNELS__TWILIO__GATHER_TIMEOUT=4s"}
	cfg, probs := config.Parse([]byte("mode: demo\nchannels:\n  twilio:\n    account_sid: AC1\n"), env, plugins.All())
	for _, p := range probs.Errors() {
		if strings.HasPrefix(p.Path, "channels.twilio") {
			t.Fatal(probs.Error())
		}
	}
	s, ok := cfg.Channels.Plugins["twilio"].(*ivr.Settings)
	if !ok {
		t.Fatalf("channels.twilio decoded into %T", cfg.Channels.Plugins["twilio"])
	}
	if s.AuthToken.Reveal() != "token-from-file" || s.AccountSID != "AC1" || s.GatherTimeout.Seconds() != 4 {
		t.Errorf("environment not applied: sid %q, gather %v", s.AccountSID, s.GatherTimeout)
	}
	if strings.Contains(cfg.Redacted(), "token-from-file") {
		t.Error("the summary shows the auth token")
	}
}

// TestTwilioEffectiveDefaults: `check-config -summary` shows the values in
// force (gather_timeout: 6s), not the zero values the adapters replace;
// example.yaml documents the same ones; the loaded block keeps its zeros.
func TestTwilioEffectiveDefaults(t *testing.T) {
	cfg, _ := config.Parse([]byte("mode: demo\nchannels:\n  twilio: {enabled: false}\n"), nil, plugins.All())
	sum := cfg.Redacted()
	for _, want := range []string{"gather_timeout: 6s", "request_timeout: 10s", "sms_api: messages",
		"voice_reset: passphrase_sms", "max_sends_per_hour: 500", "language_memory: 4320h0m0s",
		"- en\n      - de\n      - es\n      - fr\n      - pt-br"} { // every catalog, English first, as New offers
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q", want)
		}
	}
	for _, bad := range []string{"gather_timeout: 0s", "max_sends_per_hour: 0"} {
		if strings.Contains(sum, bad) {
			t.Errorf("summary shows %q", bad)
		}
	}
	if s := cfg.Channels.Plugins["twilio"].(*ivr.Settings); s.GatherTimeout != 0 || s.MaxSendsPerHour != 0 {
		t.Error("the summary changed the loaded configuration")
	}
	ex, _ := config.Parse(config.ExampleYAML(), nil, plugins.All())
	tw := ex.Channels.Plugins["twilio"].(*ivr.Settings)
	for name, c := range map[string]struct{ got, want any }{
		"sms_api":            {tw.SMSAPI, notifytwilio.DefaultSMSAPI},
		"voice_reset":        {tw.VoiceReset, ivr.DefaultVoiceReset},
		"gather_timeout":     {tw.GatherTimeout, ivr.DefaultGatherTimeout},
		"request_timeout":    {tw.RequestTimeout, notifytwilio.DefaultRequestTimeout},
		"max_sends_per_hour": {tw.MaxSendsPerHour, notifytwilio.DefaultMaxSendsPerHour},
		"language_memory":    {tw.LanguageMemory, ivr.DefaultLanguageMemory},
	} {
		if c.got != c.want {
			t.Errorf("%s: example.yaml says %v, the default is %v", name, c.got, c.want)
		}
	}
}

// TestTwilioAccountDelivers: the block is the SMS and code-call account
// (notify.AccountOpener) once configured, whether the phone channel is on
// or off, and the phone channel is a channel plug-in that opens itself.
func TestTwilioAccountDelivers(t *testing.T) {
	var s any = &ivr.Settings{}
	acct, ok := s.(notify.AccountOpener)
	if !ok {
		t.Fatal("the phone's settings do not open the account's senders")
	}
	if acct.Delivers(notify.ChannelSMS) {
		t.Error("an account without credentials delivers SMS")
	}
	set := s.(*ivr.Settings)
	set.AccountSID, set.FromNumber = "AC1", "+15555550100"
	set.AuthToken = secret.New("t")
	if !acct.Delivers(notify.ChannelSMS) || !acct.Delivers(notify.ChannelVoice) || acct.Delivers(notify.ChannelEmail) {
		t.Error("a configured account delivers SMS and calls only")
	}
	if _, ok := s.(config.Channel); !ok {
		t.Error("the phone's settings are not a channel block")
	}
	if _, ok := s.(config.SMSAccount); !ok {
		t.Error("the phone's settings are not an SMS account for notify.sms.provider")
	}
}
