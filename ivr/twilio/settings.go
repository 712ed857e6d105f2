package twilio

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/resetbot/resetbot/core/messages"
	"github.com/resetbot/resetbot/core/notify"
	notifytwilio "github.com/resetbot/resetbot/core/notify/twilio"
	"github.com/resetbot/resetbot/core/plugin"
)

// Voice reset modes (channels.twilio.voice_reset); the same strings as the
// flows' policy.
const (
	VoicePassphraseSMS = "passphrase_sms"
	VoiceUnlockOnly    = "unlock_only"
)

// Defaults applied at use and shown by `check-config -summary` (Effective).
const (
	DefaultVoiceReset    = VoicePassphraseSMS
	DefaultGatherTimeout = 6 * time.Second
)

// Settings are the phone channel's configuration (channels.twilio), a
// channel plug-in's block: the registry (plugins.All) decodes the block into
// it, Validate checks it and Open builds the channel from it. The Twilio
// account is core/notify/twilio's Account, embedded inline so the YAML keeps
// one flat block; it also sends SMS and code calls when
// notify.sms.provider is twilio (notify.AccountOpener, promoted from
// Account), with the phone channel on or off.
type Settings struct {
	notifytwilio.Account `yaml:",inline"`
	// Enabled turns on the IVR (voice) webhooks. SMS sending only needs the
	// credentials.
	Enabled bool `yaml:"enabled"`
	// HelpDeskNumber is where callers are transferred (E.164).
	HelpDeskNumber string `yaml:"help_desk_number"`
	// VoiceReset is what a reset on the phone does: passphrase_sms (default)
	// or unlock_only.
	VoiceReset string `yaml:"voice_reset"`
	// Languages offered at the start of a call, first is the default
	// (default: every language with a catalog file, English first).
	Languages []string `yaml:"languages"`
	// Numbers maps a Twilio number of this account (E.164, the number
	// called) to the language its callers hear without a language menu,
	// e.g. {"+34910000000": es}. Each language must be offered.
	Numbers map[string]string `yaml:"numbers"`
	// LanguageMemory is how long a caller's language is remembered for the
	// calling number, so the next call skips the menu (default 180 days;
	// negative: never remembered). The store keeps an HMAC of the number.
	LanguageMemory time.Duration `yaml:"language_memory"`
	// GatherTimeout is how long the IVR waits for a key press (default 6s).
	GatherTimeout time.Duration `yaml:"gather_timeout"`
	// BlockedCallers are E.164 numbers or prefixes whose calls get a polite
	// goodbye and nothing else.
	BlockedCallers []string `yaml:"blocked_callers"`
}

var (
	_ plugin.Config        = (*Settings)(nil)
	_ notify.AccountOpener = (*Settings)(nil)
)

// NewSettings is the phone channel's registry entry (channels.twilio): off,
// with the defaults applied at use.
func NewSettings() plugin.Config { return &Settings{} }

// ChannelName is the phone's engine name, "voice".
func (s *Settings) ChannelName() string { return Channel }

// ChannelEnabled reports whether the IVR webhooks are on.
func (s *Settings) ChannelEnabled() bool { return s.Enabled }

// Transfer is where a caller asking for a person is transferred
// (config.Transferrer): without a number, and without an escalation packet
// destination, a production configuration is refused.
func (s *Settings) Transfer() (setting, target string) { return "help_desk_number", s.HelpDeskNumber }

// VoiceResetPolicy is what a reset on the phone does (flows.Policy
// VoiceReset), "" for the flows' default.
func (s *Settings) VoiceResetPolicy() string { return s.VoiceReset }

// Effective returns a copy with the use-time defaults filled in, so that
// `check-config -summary` shows the values in force.
func (s *Settings) Effective() plugin.Config {
	e := *s
	e.Account = s.Account.Effective()
	if e.VoiceReset == "" {
		e.VoiceReset = DefaultVoiceReset
	}
	if len(e.Languages) == 0 {
		// What New offers: every language with a catalog, English first.
		if cat, err := messages.Load(); err == nil {
			e.Languages = cat.Languages()
		}
	}
	if e.GatherTimeout <= 0 {
		e.GatherTimeout = DefaultGatherTimeout
	}
	if e.LanguageMemory == 0 {
		e.LanguageMemory = DefaultLanguageMemory
	}
	return &e
}

// Validate reports every problem with the block under path
// (channels.twilio): the account's settings (checked by the account) and the
// phone line's. It is the only validation of them: check-config runs it
// through the configuration framework, Open through plugin.Check.
func (s *Settings) Validate(c plugin.Checker, path string) {
	if s.Enabled {
		if s.AccountSID == "" {
			c.Errorf(path+".account_sid", "is required when twilio is enabled")
		}
		if s.AuthToken.Empty() {
			c.Errorf(path+".auth_token", "is required when twilio is enabled")
		}
		if s.FromNumber == "" {
			c.Errorf(path+".from_number", "is required when twilio is enabled")
		}
		if u, ok := plugin.PublicURL(c); ok && u == "" {
			c.Errorf("server.public_url", "is required when twilio is enabled (signatures cover the public URL)")
		}
	}
	s.Account.Validate(c, path)
	notifytwilio.E164(c, path+".help_desk_number", s.HelpDeskNumber)
	for _, pre := range s.BlockedCallers {
		if !notifytwilio.PrefixOK(pre) {
			c.Errorf(path+".blocked_callers", "%q is not an E.164 number or prefix", pre)
		}
	}
	s.validateVoice(c, path)
}

func (s *Settings) validateVoice(c plugin.Checker, p string) {
	switch s.VoiceReset {
	case "", VoicePassphraseSMS, VoiceUnlockOnly:
	default:
		c.Errorf(p+".voice_reset", "must be passphrase_sms or unlock_only")
	}
	if len(s.Languages) > 0 {
		cat, err := messages.Load()
		if err != nil {
			c.Errorf(p+".languages", "message catalogs: %v", err)
			return
		}
		for _, l := range s.Languages {
			if !cat.Supported(l) {
				c.Errorf(p+".languages", "%q has no catalog; use one of %s", l, strings.Join(cat.Languages(), ", "))
			}
		}
	}
	s.validateNumbers(c, p+".numbers")
	if s.LanguageMemory > 2*365*24*time.Hour {
		c.Errorf(p+".language_memory", "must be at most 17520h (two years); negative turns it off")
	}
	if s.GatherTimeout < 0 || s.GatherTimeout > 30*time.Second {
		c.Errorf(p+".gather_timeout", "must be between 0 (default) and 30s")
	}
}

// validateNumbers checks the per-number languages: E.164 numbers, each
// language one the calls offer.
func (s *Settings) validateNumbers(c plugin.Checker, p string) {
	if len(s.Numbers) == 0 {
		return
	}
	cat, err := messages.Load()
	if err != nil {
		c.Errorf(p, "message catalogs: %v", err)
		return
	}
	offered := s.Languages
	if len(offered) == 0 {
		offered = cat.Languages()
	}
	for _, n := range slices.Sorted(maps.Keys(s.Numbers)) {
		l := s.Numbers[n]
		if !notifytwilio.PrefixOK(n) || len(n) < 9 {
			c.Errorf(p, "%q is not an E.164 number such as +34910000000", n)
		}
		if !slices.Contains(offered, l) {
			c.Errorf(p+"."+n, "%q is not one of the offered languages (%s)", l, strings.Join(offered, ", "))
		}
	}
}
