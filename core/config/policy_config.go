package config

import (
	"time"

	"github.com/resetbot/resetbot/core/policy"
)

// SessionsConfig bounds how long a conversation may last.
type SessionsConfig struct {
	// IdleTimeout ends a session after this long without input.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// AbsoluteTimeout ends a session this long after it started.
	AbsoluteTimeout time.Duration `yaml:"absolute_timeout"`
}

// PasswordConfig is the new-password policy checked before the directory's own.
// The embedded list of the most common passwords is always checked.
type PasswordConfig struct {
	// MinLength is the fewest characters (default 15: NIST SP 800-63B-4's
	// minimum for a password that is the only factor).
	MinLength int `yaml:"min_length"`
	MaxLength int `yaml:"max_length"`
	// MinStrength is the lowest zxcvbn score (1–4) accepted; default 3,
	// 0 turns the estimate off.
	MinStrength int `yaml:"min_strength"`
	// BannedWords are refused as (case-insensitive) substrings, e.g. the company name.
	BannedWords []string `yaml:"banned_words"`
	// BannedFile holds more banned words, one per line.
	BannedFile string `yaml:"banned_file"`
	// BreachedFile is the full breached-password list: a sorted Have I Been
	// Pwned "SHA1:count" file, looked up offline (see policy.Breached).
	BreachedFile string `yaml:"breached_file"`
	// PassphraseWords is the word count of suggested passphrases.
	PassphraseWords int `yaml:"passphrase_words"`
}

// RegulationConfig throttles failures and message sends (see
// core/regulation for the model).
type RegulationConfig struct {
	// MaxFailures is the hard limit of whoever is talking (a chat identity,
	// a caller): attempts per Window, and every MaxFailures consecutive
	// failures start a ban.
	MaxFailures int `yaml:"max_failures"`
	// AccountMaxFailures is the soft limit of an account per factor (and of
	// what was typed at the login prompt), the same way; 0 means
	// max(10, max_failures).
	AccountMaxFailures int           `yaml:"account_max_failures"`
	Window             time.Duration `yaml:"window"`
	// BanTime is the first ban; later ones grow (1 h, 24 h) unless Bans
	// lists the rungs.
	BanTime time.Duration   `yaml:"ban_time"`
	Bans    []time.Duration `yaml:"bans"`
	// MaxConsecutive failures without a success (at most 100, NIST
	// 800-63B) pause the factor until the streak is forgotten (30 days
	// after it began) or a help-desk agent lifts it. Never forever.
	MaxConsecutive int        `yaml:"max_consecutive"`
	Send           SendConfig `yaml:"send"`
}

// SendConfig limits outbound SMS, calls and emails (toll fraud, harassment).
type SendConfig struct {
	PerDestinationPerHour int `yaml:"per_destination_per_hour"`
	PerUserPerHour        int `yaml:"per_user_per_hour"`
	GlobalPerHour         int `yaml:"global_per_hour"`
}

func defaultSessions() SessionsConfig {
	return SessionsConfig{IdleTimeout: 15 * time.Minute, AbsoluteTimeout: 30 * time.Minute}
}

func defaultPassword() PasswordConfig {
	return PasswordConfig{MinLength: policy.DefaultMinLength, MaxLength: policy.DefaultMaxLength,
		MinStrength: policy.DefaultMinStrength, PassphraseWords: 4}
}

func defaultRegulation() RegulationConfig {
	return RegulationConfig{
		MaxFailures: 5, Window: 15 * time.Minute, BanTime: 15 * time.Minute, MaxConsecutive: 100,
		Send: SendConfig{PerDestinationPerHour: 3, PerUserPerHour: 5, GlobalPerHour: 500},
	}
}

func (v *validator) sessions(s *SessionsConfig) {
	const p = "sessions"
	v.positive(p+".idle_timeout", s.IdleTimeout)
	v.positive(p+".absolute_timeout", s.AbsoluteTimeout)
	if s.IdleTimeout > 0 && s.AbsoluteTimeout > 0 && s.IdleTimeout > s.AbsoluteTimeout {
		v.errorf(p+".idle_timeout", "must not exceed absolute_timeout")
	}
	if s.AbsoluteTimeout > 2*time.Hour {
		v.warnf(p+".absolute_timeout", "is over 2h; a verified session stays usable that long")
	}
}

func (v *validator) password(pw *PasswordConfig) {
	const p = "password"
	switch {
	case pw.MinLength < policy.LowestMinLength:
		v.errorf(p+".min_length", "must be at least %d", policy.LowestMinLength)
	case pw.MinLength < policy.DefaultMinLength:
		v.warnf(p+".min_length", "is below %d, NIST SP 800-63B-4's minimum for a password that is the only factor. "+
			"A directory password usually is (VPN, Wi-Fi, mail and every LDAP bind), and each character less makes "+
			"guessing much cheaper. Keep it below %d only if every sign-in with this password also asks for a second "+
			"factor (then 8 is NIST's floor); the common-password list and strength estimate still apply",
			policy.DefaultMinLength, policy.DefaultMinLength)
	}
	switch {
	case pw.MinStrength < 0 || pw.MinStrength > 4:
		v.errorf(p+".min_strength", "must be a zxcvbn score from 0 (off) to 4")
	case pw.MinStrength == 0:
		v.warnf(p+".min_strength", "is 0: the strength estimate is off, so passwords such as "+
			"\"Summer2024Summer2024\" are accepted once they are long enough; only the common-password list stops the worst")
	case pw.MinStrength < policy.DefaultMinStrength:
		v.warnf(p+".min_strength", "is below %d: passwords guessed within days at zxcvbn's slow-attack model are accepted",
			policy.DefaultMinStrength)
	}
	if pw.MaxLength < 64 || pw.MaxLength < pw.MinLength {
		v.errorf(p+".max_length", "must be at least 64 and at least min_length (long passphrases must fit)")
	}
	for i, w := range pw.BannedWords {
		if w == "" {
			v.errorf(index(p+".banned_words", i), "must not be empty")
		}
	}
	v.fileExists(p+".banned_file", pw.BannedFile)
	v.fileExists(p+".breached_file", pw.BreachedFile)
	if pw.PassphraseWords < 3 || pw.PassphraseWords > 12 {
		v.errorf(p+".passphrase_words", "must be between 3 and 12")
	}
}

func (v *validator) regulation(r *RegulationConfig) {
	const p = "regulation"
	v.atLeast(p+".max_failures", r.MaxFailures, 1)
	v.positive(p+".window", r.Window)
	v.positive(p+".ban_time", r.BanTime)
	v.atLeast(p+".max_consecutive", r.MaxConsecutive, r.MaxFailures)
	if r.MaxConsecutive > 100 {
		v.errorf(p+".max_consecutive", "must not exceed 100 (NIST SP 800-63B)")
	}
	if r.AccountMaxFailures != 0 && r.AccountMaxFailures < r.MaxFailures {
		v.errorf(p+".account_max_failures", "must be at least max_failures: an account is throttled more softly than whoever is talking")
	}
	for i, b := range r.Bans {
		if b < r.Window {
			v.errorf(index(p+".bans", i), "must be at least window")
		}
	}
	v.atLeast(p+".send.per_destination_per_hour", r.Send.PerDestinationPerHour, 1)
	v.atLeast(p+".send.per_user_per_hour", r.Send.PerUserPerHour, 1)
	v.atLeast(p+".send.global_per_hour", r.Send.GlobalPerHour, 1)
}
