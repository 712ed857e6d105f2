// Package identity is the contract shared by resetbot's verification factors:
// authenticator-app codes (totp/), one-time codes sent by SMS, voice call or email
// (code/) and security questions (questions/).
//
// A verifier answers "did this person prove the factor?" with a Result. A wrong,
// expired, exhausted or replayed answer is a Result, never an error: an error
// means the infrastructure (store, keyring, random source) failed and the caller
// must fail closed. The only other errors are the sentinels below, for states the
// flow must handle (no enrollment) and for invalid configuration or input given by
// the program itself.
//
// Verifiers never log and never put a secret (code, seed, answer) in an error.
// Throttling across attempts and channels is the regulator's job, not theirs;
// each verifier only enforces what belongs to one challenge (a code's own attempt
// limit, a TOTP step used once).
package identity

import "errors"

// Factor names a verification method. Values are stable: they appear in
// configuration, policies and audit records.
type Factor string

// Factors resetbot knows.
const (
	// FactorTOTP is a code from an authenticator app (RFC 6238).
	FactorTOTP Factor = "totp"
	// FactorSMS is a one-time code sent by text message to a number of record.
	FactorSMS Factor = "sms"
	// FactorVoice is a one-time code read out by a phone call to a number of record.
	FactorVoice Factor = "voice"
	// FactorEmail is a one-time code sent to a personal address of record.
	FactorEmail Factor = "email"
	// FactorQuestions is a set of security questions. It never counts as a factor
	// on its own (see the security checklist); it is an extra step.
	FactorQuestions Factor = "questions"
)

// Factors lists every known factor, in the order menus offer them (strongest first).
func Factors() []Factor {
	return []Factor{FactorTOTP, FactorSMS, FactorVoice, FactorEmail, FactorQuestions}
}

// Valid reports whether f is a known factor.
func (f Factor) Valid() bool {
	switch f {
	case FactorTOTP, FactorSMS, FactorVoice, FactorEmail, FactorQuestions:
		return true
	}
	return false
}

// Result is the outcome of checking an answer. The zero value is Wrong, so a
// forgotten assignment fails closed.
type Result int

// Results of a verification.
const (
	// Wrong means the answer did not match (including malformed input).
	Wrong Result = iota
	// Verified means the answer matched and has now been used up where single use applies.
	Verified
	// Expired means there is no live challenge: never issued, expired, cancelled
	// or already used. The user must ask for a new one.
	Expired
	// Exhausted means the challenge's attempts are used up; even the right answer
	// is refused until a new challenge is issued.
	Exhausted
	// Replayed means a TOTP code was right but its time step was already accepted
	// for this user. It may signal a stolen code: audit it and notify the user.
	Replayed
)

// String returns a stable lower-case name, fit for audit records and metrics labels.
func (r Result) String() string {
	switch r {
	case Wrong:
		return "wrong"
	case Verified:
		return "verified"
	case Expired:
		return "expired"
	case Exhausted:
		return "exhausted"
	case Replayed:
		return "replayed"
	}
	return "unknown"
}

// OK reports whether r is Verified.
func (r Result) OK() bool { return r == Verified }

// Sentinel errors shared by the verifiers.
var (
	// ErrNotEnrolled means the user has no enrollment for the factor (never
	// enrolled, or revoked). Flows treat it as "method unavailable".
	ErrNotEnrolled = errors.New("identity: factor not enrolled")
	// ErrInvalidConfig means the verifier's options are invalid. Verifiers report
	// it from Validate at startup and from every call afterwards.
	ErrInvalidConfig = errors.New("identity: invalid configuration")
	// ErrInvalidInput means the program passed invalid arguments (an empty key,
	// too few answers at enrollment). Errors wrapping it never carry secret values.
	ErrInvalidInput = errors.New("identity: invalid input")
)
