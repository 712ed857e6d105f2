package config

import (
	"time"

	"github.com/resetbot/resetbot/core/plugin"
)

// Defaults applied where a setting is used rather than when it is loaded
// (the adapters accept zero values). Plug-ins that do so say it themselves
// (EffectiveConfig: Slack's workers, Teams' endpoints); the sections still
// kept here are listed below so that
// `check-config -summary` shows the values actually in force instead of
// `workers: 0`; TestSummaryShowsEffectiveDefaults keeps them in step with
// example.yaml, which documents each one.
const (
	DefaultTwilioSMSAPI         = "messages"
	DefaultTwilioVoiceReset     = "passphrase_sms"
	DefaultTwilioGatherTimeout  = 6 * time.Second
	DefaultTwilioRequestTimeout = 10 * time.Second
	DefaultTwilioMaxSendsHour   = 500
	// DefaultTwilioLanguageMemory is how long a caller number's language is
	// remembered (ivr/twilio.DefaultLanguageMemory).
	DefaultTwilioLanguageMemory = 180 * 24 * time.Hour
)

// DefaultTwilioLanguages are offered at the start of a call by default.
var DefaultTwilioLanguages = []string{"en", "es"}

// effective returns a copy of c with the use-time defaults filled in. Only
// the copy is changed: the loaded Config keeps the zero values the adapters
// expect.
func (c *Config) effective() *Config {
	e := *c
	e.Factors.Require.Enroll = effectiveEnroll(c.Factors.Require)
	e.Channels.Plugins = effectivePlugins(c.Channels.Plugins)

	w := &e.Channels.Twilio
	w.SMSAPI = or(w.SMSAPI, DefaultTwilioSMSAPI)
	w.VoiceReset = or(w.VoiceReset, DefaultTwilioVoiceReset)
	if len(w.Languages) == 0 {
		w.Languages = DefaultTwilioLanguages
	}
	if w.GatherTimeout <= 0 {
		w.GatherTimeout = DefaultTwilioGatherTimeout
	}
	if w.RequestTimeout <= 0 {
		w.RequestTimeout = DefaultTwilioRequestTimeout
	}
	w.MaxSendsPerHour = orInt(w.MaxSendsPerHour, DefaultTwilioMaxSendsHour)
	if w.LanguageMemory == 0 {
		w.LanguageMemory = DefaultTwilioLanguageMemory
	}
	return &e
}

// effectivePlugins returns a copy of a plug-in map in which every block
// that applies defaults at use (EffectiveConfig) is replaced by its
// effective copy; the loaded blocks are left as they are.
func effectivePlugins(m map[string]plugin.Config) map[string]plugin.Config {
	if m == nil {
		return nil
	}
	out := make(map[string]plugin.Config, len(m))
	for k, cfg := range m {
		if e, ok := cfg.(EffectiveConfig); ok {
			cfg = e.Effective()
		}
		out[k] = cfg
	}
	return out
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func orInt(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}
