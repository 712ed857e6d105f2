// Package regulation limits attempts: it bans a key for a while after too
// many failed verifications, locks it for good after too many consecutive
// failures, slows answers down progressively, and keeps hourly budgets for
// sending codes (SMS, voice, email) so the bot cannot be used for SMS bombing
// or toll fraud.
//
// Counters live in a shared store.Store (Redis in production), so every
// replica and every channel (Slack, Teams, phone) sees the same counts: five
// failures in Slack then one on the phone is six failures for the directory
// user. A ban here is the bot's own and never touches the directory's lockout
// attributes, so it cannot become a denial of service against the account
// itself (OWASP Forgot Password; NIST 800-63B 5.2.2).
//
// The regulator fails closed: any store error is returned, and callers must
// then refuse the attempt.
//
// Key IDs (directory DNs, phone numbers, chat user IDs) are stored only as
// truncated SHA-256 hashes, so store keys carry no personal data.
package regulation

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/resetbot/resetbot/core/store"
)

// Scope says what a Key identifies.
type Scope string

// Scopes of regulated keys.
const (
	// ScopeUser is a directory user, by its stable key (the DN); the main
	// scope, shared across channels.
	ScopeUser Scope = "user"
	// ScopeChannelUser is a chat identity, e.g. "slack:T123:U456".
	ScopeChannelUser Scope = "channel"
	// ScopeCaller is a phone caller number (a throttle key only: caller ID
	// can be spoofed, so it is never proof of identity).
	ScopeCaller Scope = "caller"
	// ScopeDestination is a phone number or address codes are sent to.
	ScopeDestination Scope = "destination"
)

// Key is one regulated identity.
type Key struct {
	Scope Scope
	ID    string
}

// User returns the key of a directory user (its stable ID, the DN).
func User(id string) Key { return Key{ScopeUser, id} }

// ChannelUser returns the key of a chat identity ("slack:T123:U456").
func ChannelUser(id string) Key { return Key{ScopeChannelUser, id} }

// Caller returns the key of a phone caller number (E.164).
func Caller(id string) Key { return Key{ScopeCaller, id} }

// Destination returns the key of a code destination (phone number or address).
func Destination(id string) Key { return Key{ScopeDestination, id} }

func (k Key) valid() error {
	switch k.Scope {
	case ScopeUser, ScopeChannelUser, ScopeCaller, ScopeDestination:
	default:
		return fmt.Errorf("regulation: unknown scope %q", k.Scope)
	}
	if k.ID == "" {
		return fmt.Errorf("regulation: empty %s key", k.Scope)
	}
	return nil
}

// hashID names a key in the store without its personal data: 128 bits of
// SHA-256 over scope and ID, base64url.
func hashID(scope Scope, id string) string {
	sum := sha256.Sum256([]byte(string(scope) + "\x00" + id))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// storeKey is the record of one key's failures. The {tag} keeps it in one
// Redis Cluster slot (not needed for correctness: one key per operation).
func (k Key) storeKey() string { return "reg:{" + string(k.Scope) + ":" + hashID(k.Scope, k.ID) + "}" }

// Reasons in a Decision.
const (
	// ReasonBanned: a temporary ban is in force (RetryAfter says how long).
	ReasonBanned = "banned"
	// ReasonTooManyFailures: this failure reached MaxFailures in the window
	// and started a ban.
	ReasonTooManyFailures = "too_many_failures"
	// ReasonHardCap: MaxConsecutive consecutive failures; locked until a
	// Succeed or a help-desk Reset (RetryAfter is 0).
	ReasonHardCap = "hard_cap"
	// ReasonDestinationBudget: AllowSend refused, the destination's hourly
	// budget is spent.
	ReasonDestinationBudget = "destination_budget"
	// ReasonUserBudget: AllowSend refused, the user's hourly budget is spent.
	ReasonUserBudget = "user_budget"
	// ReasonGlobalBudget: AllowSend refused, the deployment's hourly budget is
	// spent (raise an alert: possible toll fraud).
	ReasonGlobalBudget = "global_budget"
)

// Decision is the regulator's answer.
type Decision struct {
	// Allowed is false when the attempt (or send) must not happen.
	Allowed bool
	// RetryAfter is how long until a refused key is allowed again; 0 with
	// ReasonHardCap means "until reset".
	RetryAfter time.Duration
	// Delay is the progressive delay to wait before answering the user, so
	// guessing gets slower with every consecutive failure.
	Delay time.Duration
	// Reason says why Allowed is false (empty when allowed).
	Reason string
	// Key is the key that caused the refusal, for the audit line (the zero
	// Key for ReasonGlobalBudget).
	Key Key
}

// Store is the part of store.Store the regulator uses; every store.Store
// implementation satisfies it.
type Store interface {
	Get(ctx context.Context, key string) (store.Record, error)
	CompareAndSwap(ctx context.Context, key string, expect uint64, value []byte, ttl time.Duration) (uint64, error)
	Delete(ctx context.Context, key string) error
	Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error)
}

// Regulator enforces Limits and SendLimits. It is safe for concurrent use,
// also across processes sharing one store.
type Regulator struct {
	st  Store
	l   Limits
	s   SendLimits
	now func() time.Time
}

// New returns a regulator over st. Zero fields of l and s take their
// defaults (see Limits and SendLimits); clock nil means time.Now.
func New(st Store, l Limits, s SendLimits, clock func() time.Time) *Regulator {
	if clock == nil {
		clock = time.Now
	}
	return &Regulator{st: st, l: l.withDefaults(), s: s.withDefaults(), now: clock}
}

// Limits returns the effective failure limits, defaults applied.
func (r *Regulator) Limits() Limits { return r.l }

// SendLimits returns the effective send budgets, defaults applied.
func (r *Regulator) SendLimits() SendLimits { return r.s }

func checkKeys(keys []Key) error {
	if len(keys) == 0 {
		return errors.New("regulation: no keys")
	}
	for _, k := range keys {
		if err := k.valid(); err != nil {
			return err
		}
	}
	return nil
}
