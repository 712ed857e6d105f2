package flows

import (
	"github.com/resetbot/resetbot/core/identity"
)

// Voice reset modes: what a reset on the phone does, since nobody should key
// or hear a password.
const (
	// VoicePassphraseSMS sets a generated passphrase, must-change, and texts it
	// to the verified mobile number.
	VoicePassphraseSMS = "passphrase_sms"
	// VoiceUnlockOnly refuses resets on the phone; unlock still works.
	VoiceUnlockOnly = "unlock_only"
)

// Requirement says how many independent factors a flow needs.
type Requirement struct {
	// Default applies on every channel without its own entry.
	Default int
	// Channels overrides Default per channel ("voice": 2).
	Channels map[string]int
	// Questions adds the user's security questions after the counted
	// factors, in chat, when the user has enrolled them. They never count.
	Questions bool
}

// Policy is the verification policy: which factors exist, in which order they
// are offered (strongest first), and how many each flow needs.
type Policy struct {
	Enabled []identity.Factor
	Require map[string]Requirement
	// VoiceReset is VoicePassphraseSMS (default) or VoiceUnlockOnly.
	VoiceReset string
	// MaxUnlocksPerDay caps unlocks per account, so the bot cannot keep
	// clearing the lockouts of a password-spraying attack (default 3).
	MaxUnlocksPerDay int
}

// DefaultPolicy is the policy of the demo and the documented defaults: the
// authenticator app offered first, unlock needs one factor, reset two when
// the user has two.
func DefaultPolicy() Policy {
	return Policy{
		Enabled: []identity.Factor{identity.FactorTOTP, identity.FactorSMS, identity.FactorVoice, identity.FactorEmail},
		Require: map[string]Requirement{
			FlowReset:  {Default: 2},
			FlowUnlock: {Default: 1},
			FlowEnroll: {Default: 1},
			FlowVerify: {Default: 1},
		},
		VoiceReset: VoicePassphraseSMS,
	}
}

// Required returns how many factors flow needs on channel (at least 1).
// Enrolling a factor needs at least what a reset needs: a factor bound with
// less would let a reset through with less.
func (p Policy) Required(flow, channel string) int {
	n := p.required(flow, channel)
	if flow == FlowEnroll {
		n = max(n, p.required(FlowReset, channel))
	}
	return n
}

func (p Policy) required(flow, channel string) int {
	r := p.Require[flow]
	n := r.Default
	if v, ok := r.Channels[channel]; ok {
		n = v
	}
	if n < 1 {
		n = 1
	}
	return n
}

// asksQuestions reports whether flow adds the security questions; enrolling
// asks them whenever a reset does, so re-enrolling cannot sidestep them.
func (p Policy) asksQuestions(flow string) bool {
	return p.Require[flow].Questions || (flow == FlowEnroll && p.Require[FlowReset].Questions)
}

// group returns the independence group of a factor: SMS and a voice call to
// the same number are one factor (possession of that phone). Security
// questions never count.
func group(f identity.Factor) string {
	switch f {
	case identity.FactorTOTP:
		return "app"
	case identity.FactorSMS, identity.FactorVoice:
		return "phone"
	case identity.FactorEmail:
		return "email"
	}
	return ""
}
