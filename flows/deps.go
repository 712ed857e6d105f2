// Package flows defines resetbot's conversations — reset a password, unlock an
// account, enroll a factor — once, for every channel.
//
// Each flow is a looplab/fsm event table plus one Step per state. Steps talk to
// the directory, the verifiers, the password policy, the regulator and the
// notifiers through the narrow interfaces below, and speak only catalogued
// message IDs. The engine (core/engine) decides the next state from the table;
// adapters render the outputs for Slack, Teams, the phone or the terminal.
//
// Anti-enumeration: an unknown login, an account with nothing enrolled and a
// wrong code get the same messages in the same order, and identification and
// verification turns are padded to the same duration (Deps.Floor). Account
// diagnostics (disabled, protected, password too young) are told only after
// verification.
package flows

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/fanout"
	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/core/policy"
	"github.com/resetbot/resetbot/core/regulation"
	"github.com/resetbot/resetbot/core/secret"
)

// Passwords checks a new password against the local policy.
type Passwords interface {
	Check(ctx context.Context, pw secret.String, u directory.User) (*policy.Refusal, error)
	// MinLength is the fewest characters accepted, told in the prompt.
	MinLength() int
}

// Fanout carries a new password to the connected systems of the account's
// directory (core/fanout): Check before the primary changes, Push after.
type Fanout interface {
	Check(ctx context.Context, u directory.User, pw secret.String) (*fanout.Refusal, error)
	Push(ctx context.Context, o fanout.Origin, u directory.User, pw secret.String) fanout.Report
}

// Regulator limits attempts and sends.
type Regulator interface {
	Check(ctx context.Context, keys ...regulation.Key) (regulation.Decision, error)
	Attempt(ctx context.Context, keys ...regulation.Key) (regulation.Decision, error)
	Notice(ctx context.Context, k regulation.Key) (bool, error)
	Typed(typed string) regulation.Key
	KeyName(purpose, id string) string
	Fail(ctx context.Context, keys ...regulation.Key) (regulation.Decision, error)
	Succeed(ctx context.Context, keys ...regulation.Key) error
	AllowSend(ctx context.Context, dest string, userKey string) (regulation.Decision, error)
}

// Renderer renders catalogued messages for notifications (SMS, email, calls).
type Renderer interface {
	Text(locale, id string, voice bool, args map[string]string) string
}

// Escalator hands a case to people (help-desk channel, ticket webhook).
type Escalator interface {
	Escalate(ctx context.Context, e Escalation) error
}

// Escalation is the context packet for the help desk. It never holds a secret.
type Escalation struct {
	Ref     string
	Reason  string
	Channel string
	// User is the directory user key, empty when the person was never identified.
	User string
	// Login is the account's login, readable by the help desk.
	Login   string
	Flow    string
	State   string
	Factors []FactorAttempt
	// OfRecord lists the factors the account has of record (for the help
	// desk: "has sms, email; no authenticator").
	OfRecord []string
	// Alert marks a security alert rather than a request for help (the
	// person said "not me" to an agent-assisted verification).
	Alert bool
	// Messages is the conversation as message IDs.
	Messages []string
	Time     time.Time
}

// FactorAttempt is one verification attempt in an escalation packet.
type FactorAttempt struct {
	Factor  string `json:"factor"`
	Outcome string `json:"outcome"`
}

// Deps is everything the flows use. Directory, Methods, Passwords,
// Regulator, Senders and Renderer are required.
type Deps struct {
	Directory directory.Directory
	// Methods are the verification factors, strongest first (see
	// identity.Registry): the flows know no factor by name.
	Methods   *identity.Registry
	Passwords Passwords
	Regulator Regulator
	// Senders deliver codes, passphrases and notices, per channel.
	Senders  map[notify.Channel]notify.Sender
	Renderer Renderer
	// Escalator may be nil: escalations are then only audited.
	Escalator Escalator
	// Handoffs may be nil: conversations then start only from the person.
	Handoffs Handoffs
	// Questions may be nil: security questions are then never asked or enrolled.
	Questions Questions
	// Active, if set, keeps one active conversation per account across
	// channels (normally the state store).
	Active Active
	// Counters, if set, caps unlocks per account (normally the state store).
	Counters Counters
	// Managers, if set, finds managers for notices (Policy.NotifyManager).
	Managers Managers
	Policy   Policy
	// Fanout may be nil: a reset then changes the primary directory only.
	Fanout Fanout
	// Generate makes a passphrase for user u for resets without a typed
	// password; it must pass the password policy for u.
	Generate func(ctx context.Context, r io.Reader, u directory.User) (secret.String, error)
	Rand     io.Reader
	Log      *slog.Logger
	// CodeDigits is the length of one-time codes (default 6), so keypads can
	// submit a code as soon as it is complete.
	CodeDigits int
	// Floor is the minimum duration of identification and verification turns,
	// so that unknown users and wrong codes cannot be told apart by timing.
	Floor time.Duration
}
