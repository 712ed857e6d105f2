package config

import "time"

// Defaults applied where a setting is used rather than when it is loaded
// (the adapters accept zero values). They are listed here so that
// `check-config -summary` shows the values actually in force instead of
// `workers: 0`; TestSummaryShowsEffectiveDefaults keeps them in step with
// example.yaml, which documents each one.
const (
	DefaultSlackAppName         = "resetbot"
	DefaultSlackWorkers         = 64
	DefaultSlackQueue           = 256
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
	s := &e.Channels.Slack
	s.AppName = or(s.AppName, DefaultSlackAppName)
	s.ResetCommand, s.UnlockCommand = s.Commands()
	s.HandoffCommand = s.Handoff()
	s.Workers = orInt(s.Workers, DefaultSlackWorkers)
	s.Queue = orInt(s.Queue, DefaultSlackQueue)

	t := &e.Channels.Teams
	t.OpenIDMetadataURL, t.Issuer = t.MetadataURL(), t.TokenIssuer()
	t.LoginURL = or(t.LoginURL, DefaultTeamsLoginURL)
	t.Scope, t.Actions, t.Timeout = t.TokenScope(), t.ActionStyle(), t.CallTimeout()
	t.ServiceURLHosts = t.AllowedServiceHosts()

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
