package config

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/resetbot/resetbot/core/messages"
	"github.com/resetbot/resetbot/core/secret"
)

// Twilio SMS APIs (channels.twilio.sms_api).
const (
	// TwilioSMSMessages sends codes with the Programmable Messaging API.
	TwilioSMSMessages = "messages"
	// TwilioSMSVerify sends codes with the Verify API (our code, as a custom
	// code); passphrases and notices still use the Messaging API.
	TwilioSMSVerify = "verify"
)

// Voice reset modes (channels.twilio.voice_reset); the same strings as the
// flows' policy.
const (
	TwilioVoicePassphraseSMS = "passphrase_sms"
	TwilioVoiceUnlockOnly    = "unlock_only"
)

// TwilioConfig configures the Twilio account for the phone channel and SMS.
type TwilioConfig struct {
	// Enabled turns on the IVR (voice) webhooks. SMS sending only needs the
	// credentials.
	Enabled    bool          `yaml:"enabled"`
	AccountSID string        `yaml:"account_sid"`
	AuthToken  secret.String `yaml:"auth_token"`
	// FromNumber is the E.164 number SMS and calls come from.
	FromNumber string `yaml:"from_number"`
	// HelpDeskNumber is where callers are transferred (E.164).
	HelpDeskNumber string `yaml:"help_desk_number"`
	// SMSAPI is "messages" (default) or "verify".
	SMSAPI string `yaml:"sms_api"`
	// VerifyServiceSID is the Verify service (VA...) used when SMSAPI is verify.
	VerifyServiceSID string `yaml:"verify_service_sid"`
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
	// RequestTimeout bounds every Twilio REST call (default 10s).
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// AllowedPrefixes are the E.164 prefixes SMS and calls may go to
	// ("+1", "+44"). Anything else is refused before Twilio is called. Empty
	// allows only the country of FromNumber.
	AllowedPrefixes []string `yaml:"allowed_prefixes"`
	// BlockedCallers are E.164 numbers or prefixes whose calls get a polite
	// goodbye and nothing else.
	BlockedCallers []string `yaml:"blocked_callers"`
	// MaxSendsPerHour caps every SMS and call this process sends through
	// Twilio per clock hour, across replicas (default 500). It backs up the
	// regulation send budgets and also covers passphrases and notices.
	MaxSendsPerHour int `yaml:"max_sends_per_hour"`
	// APIBaseURL sends every REST call to this scheme and host instead of
	// Twilio's (api.twilio.com, verify.twilio.com), keeping the path: an
	// egress proxy. Empty calls Twilio directly. Excludes Edge and Region.
	APIBaseURL string `yaml:"api_base_url"`
	// Edge and Region pin REST calls to a Twilio edge location (dublin,
	// sydney, ...) and processing region (ie1, au1, ...), as the
	// TWILIO_EDGE and TWILIO_REGION variables would; resetbot ignores those
	// variables so that only this file changes the hosts it calls.
	Edge   string `yaml:"edge"`
	Region string `yaml:"region"`
}

// twilioEdges are Twilio's edge locations.
var twilioEdges = []string{"ashburn", "dublin", "frankfurt", "roaming", "sao-paulo", "singapore",
	"sydney", "tokyo", "umatilla"}

func (t TwilioConfig) configured() bool {
	return t.AccountSID != "" && !t.AuthToken.Empty() && t.FromNumber != ""
}

func (v *validator) twilio(t TwilioConfig, publicURL string) {
	const p = "channels"
	if t.Enabled {
		if t.AccountSID == "" {
			v.errorf(p+".twilio.account_sid", "is required when twilio is enabled")
		}
		if t.AuthToken.Empty() {
			v.errorf(p+".twilio.auth_token", "is required when twilio is enabled")
		}
		if t.FromNumber == "" {
			v.errorf(p+".twilio.from_number", "is required when twilio is enabled")
		}
		if publicURL == "" {
			v.errorf("server.public_url", "is required when twilio is enabled (signatures cover the public URL)")
		}
	}
	if t.AccountSID != "" && !strings.HasPrefix(t.AccountSID, "AC") {
		v.errorf(p+".twilio.account_sid", "must start with AC")
	}
	v.e164(p+".twilio.from_number", t.FromNumber)
	v.e164(p+".twilio.help_desk_number", t.HelpDeskNumber)
	v.twilioSending(t)
	v.twilioVoice(t)
	v.twilioHosts(t)
}

func (v *validator) twilioHosts(t TwilioConfig) {
	const p = "channels.twilio"
	v.apiURL(p+".api_base_url", t.APIBaseURL)
	if t.Edge != "" && !slices.Contains(twilioEdges, t.Edge) {
		v.errorf(p+".edge", "%q is not a Twilio edge (%s)", t.Edge, strings.Join(twilioEdges, ", "))
	}
	if t.Region != "" && !regionOK(t.Region) {
		v.errorf(p+".region", "%q is not a Twilio region such as us1, ie1 or au1", t.Region)
	}
	if t.APIBaseURL != "" && (t.Edge != "" || t.Region != "") {
		v.errorf(p+".api_base_url", "excludes edge and region (the proxy chooses where calls go)")
	}
}

// regionOK accepts two lower-case letters and a digit (us1, ie1, au1).
func regionOK(r string) bool {
	return len(r) == 3 && r[0] >= 'a' && r[0] <= 'z' && r[1] >= 'a' && r[1] <= 'z' && r[2] >= '1' && r[2] <= '9'
}

func (v *validator) twilioSending(t TwilioConfig) {
	const p = "channels.twilio"
	switch t.SMSAPI {
	case "", TwilioSMSMessages:
	case TwilioSMSVerify:
		if !strings.HasPrefix(t.VerifyServiceSID, "VA") {
			v.errorf(p+".verify_service_sid", "must be a Verify service SID (VA...) when sms_api is verify")
		}
	default:
		v.errorf(p+".sms_api", "must be messages or verify")
	}
	for _, pre := range t.AllowedPrefixes {
		if !prefixOK(pre) {
			v.errorf(p+".allowed_prefixes", "%q is not an E.164 prefix such as +1 or +44", pre)
		}
	}
	for _, pre := range t.BlockedCallers {
		if !prefixOK(pre) {
			v.errorf(p+".blocked_callers", "%q is not an E.164 number or prefix", pre)
		}
	}
	if t.MaxSendsPerHour < 0 {
		v.errorf(p+".max_sends_per_hour", "must not be negative (0 uses the default)")
	}
	if t.RequestTimeout < 0 || t.RequestTimeout > time.Minute {
		v.errorf(p+".request_timeout", "must be between 0 (default) and 1m")
	}
}

func (v *validator) twilioVoice(t TwilioConfig) {
	const p = "channels.twilio"
	switch t.VoiceReset {
	case "", TwilioVoicePassphraseSMS, TwilioVoiceUnlockOnly:
	default:
		v.errorf(p+".voice_reset", "must be passphrase_sms or unlock_only")
	}
	if len(t.Languages) > 0 {
		cat, err := messages.Load()
		if err != nil {
			v.errorf(p+".languages", "message catalogs: %v", err)
			return
		}
		for _, l := range t.Languages {
			if !cat.Supported(l) {
				v.errorf(p+".languages", "%q has no catalog; use one of %s", l, strings.Join(cat.Languages(), ", "))
			}
		}
	}
	v.twilioNumbers(t)
	if t.LanguageMemory > 2*365*24*time.Hour {
		v.errorf(p+".language_memory", "must be at most 17520h (two years); negative turns it off")
	}
	if t.GatherTimeout < 0 || t.GatherTimeout > 30*time.Second {
		v.errorf(p+".gather_timeout", "must be between 0 (default) and 30s")
	}
}

// twilioNumbers checks the per-number languages: E.164 numbers, each
// language one the calls offer.
func (v *validator) twilioNumbers(t TwilioConfig) {
	const p = "channels.twilio.numbers"
	if len(t.Numbers) == 0 {
		return
	}
	cat, err := messages.Load()
	if err != nil {
		v.errorf(p, "message catalogs: %v", err)
		return
	}
	offered := t.Languages
	if len(offered) == 0 {
		offered = cat.Languages()
	}
	for _, n := range slices.Sorted(maps.Keys(t.Numbers)) {
		l := t.Numbers[n]
		if !prefixOK(n) || len(n) < 9 {
			v.errorf(p, "%q is not an E.164 number such as +34910000000", n)
		}
		if !slices.Contains(offered, l) {
			v.errorf(p+"."+n, "%q is not one of the offered languages (%s)", l, strings.Join(offered, ", "))
		}
	}
}

// prefixOK reports whether s is "+" followed by 1 to 15 digits.
func prefixOK(s string) bool {
	if len(s) < 2 || len(s) > 16 || s[0] != '+' {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
