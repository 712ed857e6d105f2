package identity

import (
	"context"
	"time"

	"github.com/resetbot/resetbot/core/secret"
)

// Strength ranks what a method proves. Flows compare strengths: a reset needs
// the strongest method the account has of record, so a weaker one can never
// stand in for it.
type Strength int

// Strengths of the built-in methods. The gaps leave room for new methods.
const (
	// StrengthNone never counts towards a requirement (security questions).
	StrengthNone Strength = 0
	// StrengthEmail is a code sent to a personal address of record — never the
	// account's own work mailbox, which sits behind the password being reset.
	StrengthEmail Strength = 10
	// StrengthPhone is a code sent by SMS or read out by a call: "restricted"
	// in NIST SP 800-63B-4 (SIM swap, number porting, SS7).
	StrengthPhone Strength = 20
	// StrengthApp is an authenticator bound to a device: a TOTP app, a
	// hardware token, a push with number matching.
	StrengthApp Strength = 30
)

// String returns a stable lower-case name for configuration, audit and docs.
func (s Strength) String() string {
	switch {
	case s >= StrengthApp:
		return "authenticator"
	case s >= StrengthPhone:
		return "restricted"
	case s >= StrengthEmail:
		return "email"
	}
	return "none"
}

// Group names an independence group. Methods of one group fail together (an
// SMS and a call to one phone are one group): a requirement of two factors
// means two groups, not two methods.
type Group string

// Built-in groups.
const (
	GroupApp   Group = "app"
	GroupPhone Group = "phone"
	GroupEmail Group = "email"
)

// Subject is the account a method verifies, as the methods need it. It holds
// only identifiers and destinations of record, read from the directory at the
// turn: never anything the person typed. The zero Subject stands for nobody
// (an unknown login): every method must then answer like a wrong answer, with
// the same work, so unknown and known accounts cannot be told apart.
type Subject struct {
	// Key is the directory user key ("<directory>:<id>").
	Key string
	// Login is the account's login (an authenticator's account name).
	Login string
	// Mobile is the mobile number of record (E.164).
	Mobile string
	// RecoveryEmail is the personal/recovery address of record; never the
	// account's own work mailbox.
	RecoveryEmail string
}

// Nobody reports whether s stands for no account.
func (s Subject) Nobody() bool { return s.Key == "" }

// Challenge is the context of one verification attempt.
type Challenge struct {
	// Key binds a challenge to one conversation, user and factor: an answer
	// from another conversation or for another factor never matches.
	Key string
	// Subject is the account (zero: nobody).
	Subject Subject
	// Locale is the conversation's language.
	Locale string
	// Voice is true on the phone.
	Voice bool
	// Courier delivers out-of-band messages. Nil means deliver nothing (no
	// destination of record, or nobody): the method still does the same
	// work, so the reply is the same.
	Courier Courier
	// Attempt names the platform delivery an answer came in (a Slack event,
	// a key press; "" for none). A method that consumes what it checks
	// (one-time codes) answers the same delivery checked again the same way,
	// so a turn the platform retries after a failover, whose session was
	// never saved, is not told its code was already used.
	Attempt string
}

// Courier delivers a catalogued message to a destination of record.
type Courier interface {
	Deliver(ctx context.Context, d Delivery) error
}

// Delivery is one out-of-band message.
type Delivery struct {
	// Channel is "sms", "voice", "email" or a method's own channel.
	Channel string
	// To is the destination of record.
	To string
	// MessageID is the catalog entry; Args its non-secret arguments.
	MessageID string
	Args      map[string]string
	// Code is the secret the message carries (argument "code"), if any.
	Code secret.String
	// ExpiresAt is when the code stops working (argument "minutes").
	ExpiresAt time.Time
}

// Prompt is what the person is asked after a challenge.
type Prompt struct {
	// MessageID asks for the answer ("code.prompt.sms").
	MessageID string
	// Digits is the expected length of a numeric answer; 0 means free text.
	Digits int
}

// Method is one verification factor, plugged into the flows through a
// Registry. Implementations are safe for concurrent use, take ctx first for
// every backend call, never log and never put a secret in an error.
//
// A wrong, expired, exhausted or replayed answer is a Result; an error means
// the infrastructure failed and the flow fails closed. Throttling across
// attempts is the regulator's job, done by the flows before Verify.
type Method interface {
	// Factor is the stable name used in configuration, menus and audit.
	Factor() Factor
	// Group is the independence group the method counts towards.
	Group() Group
	// Strength ranks the method (see the Strength constants).
	Strength() Strength
	// Has reports whether the subject has this method of record (an enrolled
	// app, a destination). Flows ask it only to apply the policy after a
	// verification, or for the help desk, never to build a menu: what is
	// offered before verification reveals nothing about the account.
	Has(ctx context.Context, s Subject) (bool, error)
	// Challenge starts an attempt (issues and, with a Courier, sends a
	// code; a push method would send the push) and says what to ask.
	Challenge(ctx context.Context, ch Challenge) (Prompt, error)
	// Verify checks the answer to the challenge.
	Verify(ctx context.Context, ch Challenge, answer secret.String) (Result, error)
}

// Destined is implemented by methods that send something to a destination of
// record. The flows budget sends per destination before Challenge, and use a
// stand-in destination when there is none, so budgets behave the same for
// every account.
type Destined interface {
	// Destination returns the destination of record, "" when there is none.
	Destination(s Subject) string
}

// Canceler is implemented by methods whose challenges outlive a turn: the
// flows cancel them when a conversation ends without success.
type Canceler interface {
	Cancel(ctx context.Context, ch Challenge) error
}

// Enroller is implemented by methods a person can bind in a conversation
// (an authenticator app), after proving the factors the policy requires.
type Enroller interface {
	// Begin starts an enrollment and returns what to show, once, privately.
	Begin(ctx context.Context, s Subject) (Enrollment, error)
	// Confirm checks the first answer from the new authenticator; Verified
	// binds it.
	Confirm(ctx context.Context, s Subject, answer secret.String) (Result, error)
}

// AttemptConfirmer is implemented by enrollers whose Confirm consumes the
// pending enrollment: the same platform delivery confirming again (a turn
// the platform retries after a failover lost its commit) gets the answer
// its first try got instead of "expired".
type AttemptConfirmer interface {
	ConfirmAttempt(ctx context.Context, s Subject, answer secret.String, attempt string) (Result, error)
}

// Enrollment is what the person needs to bind a new authenticator. It carries
// secrets (a seed): show it once, privately.
type Enrollment struct {
	// QRPNG is a QR code image; it embeds the seed.
	QRPNG []byte
	// Secret is a setup key for typing in by hand.
	Secret secret.String
}
