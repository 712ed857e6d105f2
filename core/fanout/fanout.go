// Package fanout carries a new password from the primary directory to the
// connected systems configured after it (another directory, a Kerberos realm,
// a sealed webhook): the "password synchronization" promise of self-service
// reset.
//
// The contract is small: a Target pushes a password for a directory user and
// declares the constraints it is known to enforce. Implementations live in
// sub-packages (ldaptarget/, webhook/, kerberos/) and never import each other;
// the composition root (app) holds the explicit registry keyed by the
// configured type. Each target package owns its config block: a Config that
// validates itself and opens the target.
//
// Semantics (see docs/fanout.md):
//   - Check runs every target's constraints before the primary changes, so a
//     password one system would refuse is refused up front, naming the system.
//   - Push runs after the primary succeeded: targets in order, each bounded by
//     its timeout. A failure never rolls the primary back; the password is
//     sealed under the keyring into an expiring outbox record in the shared
//     store, retried by a bounded worker (claimed by compare-and-swap so two
//     replicas never push the same item at once) and, when the window closes,
//     reported failed to the help desk. The outbox record is deleted on success
//     and expires with the window: the password is never kept longer.
package fanout

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/secret"
)

// Target is one connected system that receives the new password.
type Target interface {
	// Name is the configured identifier, used in audit records and the outbox.
	Name() string
	// Label is the plain name users see, e.g. "VPN (Kerberos)".
	Label() string
	// Constraints are the password rules the system is known to enforce.
	Constraints() Constraints
	// Push sets r.Password as r.User's password on the system. It must
	// honour ctx's deadline, never put the password in an error, and be safe
	// to repeat (the outbox may retry an attempt whose outcome was lost).
	Push(ctx context.Context, r Request) error
}

// Origin is where a fan-out comes from: the reset's reference (shown to the
// person, and the same on every retry) and the person's language, for the
// notice sent if a target is given up on.
type Origin struct {
	Ref    string
	Locale string
}

// Request is one push: the same Ref on every retry of a reset's push.
type Request struct {
	Ref      string
	User     directory.User
	Password secret.String
}

// Prechecker is implemented by targets that can tell, before anything
// changes, that they would refuse a password (history, a server-side policy).
// It returns a refusal, never an error, for a password the target would refuse.
type Prechecker interface {
	Precheck(ctx context.Context, u directory.User, pw secret.String) (*Refusal, error)
}

// Closer is implemented by targets that hold connections.
type Closer interface {
	Close() error
}

// Config is one target type's configuration block. Validate reports every
// problem in plain words; Open builds the target.
type Config interface {
	Validate() error
	Open(ctx context.Context) (Target, error)
}

// ErrPermanent marks a push failure that retrying cannot fix (the account is
// not on the target, the target refused the password): the outbox reports it
// failed at once instead of retrying for the whole window.
var ErrPermanent = errors.New("fanout: permanent failure")

// Constraints are a target's known password rules. Zero values mean "no rule".
type Constraints struct {
	MinLength int
	MaxLength int
	// ASCIIOnly refuses characters outside printable ASCII (many legacy
	// systems and Kerberos tooling mangle others).
	ASCIIOnly bool
	// Forbidden lists characters the target refuses, e.g. `:` or `"`.
	Forbidden string
	// MinClasses is the number of character classes (lower, upper, digit,
	// other) a password must mix.
	MinClasses int
}

// Refusal reasons; each has a catalogued message "fanout.refused.<reason>"
// taking the argument "target" (the Label) and, where given, "n".
const (
	ReasonTooShort  = "too_short"
	ReasonTooLong   = "too_long"
	ReasonCharset   = "charset"
	ReasonForbidden = "forbidden"
	ReasonClasses   = "classes"
	ReasonHistory   = "history"
)

// Refusal is a password a target would not accept. It names the target and
// the rule in plain words; it never holds the password.
type Refusal struct {
	Target string // the target's Name (for audit)
	Label  string // the target's Label (for the user)
	Reason string
	N      int // the length or class count the rule asks for, if any
}

// MessageID is the catalogued message telling the user about the refusal.
func (r *Refusal) MessageID() string { return "fanout.refused." + r.Reason }

// Args are the message arguments.
func (r *Refusal) Args() map[string]string {
	a := map[string]string{"target": r.Label}
	if r.N > 0 {
		a["n"] = strconv.Itoa(r.N)
	}
	return a
}

// Check reports the first rule of c that pw breaks, or "" and 0.
func (c Constraints) Check(pw secret.String) (reason string, n int) {
	v := pw.Reveal()
	runes := []rune(v)
	switch {
	case c.MinLength > 0 && len(runes) < c.MinLength:
		return ReasonTooShort, c.MinLength
	case c.MaxLength > 0 && len(runes) > c.MaxLength:
		return ReasonTooLong, c.MaxLength
	case c.Forbidden != "" && strings.ContainsAny(v, c.Forbidden):
		return ReasonForbidden, 0
	}
	var lower, upper, digit, other bool
	for _, r := range runes {
		if c.ASCIIOnly && (r < 0x20 || r > 0x7e) {
			return ReasonCharset, 0
		}
		switch {
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		default:
			other = true
		}
	}
	classes := 0
	for _, b := range []bool{lower, upper, digit, other} {
		if b {
			classes++
		}
	}
	if c.MinClasses > 0 && classes < c.MinClasses {
		return ReasonClasses, c.MinClasses
	}
	return "", 0
}

// Entry is one configured target in a primary directory's ordered list.
type Entry struct {
	Target Target
	// Timeout bounds each push attempt (default 10s).
	Timeout time.Duration
}

// Status is what happened to one target in a fan-out.
type Status string

// Statuses of a target after the inline attempt.
const (
	StatusDone    Status = "done"    // the target has the new password
	StatusPending Status = "pending" // queued in the outbox, retried within the window
	StatusFailed  Status = "failed"  // not updated and not retried; the help desk has the case
)

// Result is one target's outcome in a Report.
type Result struct {
	Name, Label string
	Status      Status
	Latency     time.Duration
}

// Report is the outcome of a fan-out, in target order.
type Report struct {
	Results []Result
	// Window is how long pending targets are retried.
	Window time.Duration
}

// Labels returns the labels of the targets with status s, joined for a message.
func (r Report) Labels(s Status) []string {
	var out []string
	for _, x := range r.Results {
		if x.Status == s {
			out = append(out, x.Label)
		}
	}
	return out
}
