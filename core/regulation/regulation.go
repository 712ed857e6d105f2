// Package regulation limits attempts: it counts every verification attempt
// before the answer is looked at, pauses a key for a growing but always
// limited time after too many failures, slows wrong answers down a little,
// and keeps hourly budgets for sending codes (SMS, voice, email) so the bot
// cannot be used for SMS bombing or toll fraud.
//
// Counters live in a shared store.Store (Redis in production), so every
// replica and every channel (Slack, Teams, phone) sees the same counts. Every
// count is a store Incr, which is atomic on every backend: an attempt is
// counted first and checked against the limit second, so fifty simultaneous
// guesses against one account get at most the limit checked (the check-then-
// fail race of a read-modify-write counter is gone).
//
// Two kinds of keys are regulated. Identity keys (a chat identity, a phone
// caller) are who is talking: they are throttled hard and they alone decide
// the progressive delay, so timing never depends on anything about the
// account. Account keys (the directory account per factor, and what was
// typed at the login prompt) are throttled softly: a higher limit, so that a
// stranger cannot pause the owner's account with a handful of wrong codes.
// A ban here is the bot's own and never touches the directory's lockout
// attributes. Every ban ends by itself: they grow (15 min, 1 h, 24 h by
// default) and the NIST SP 800-63B ceiling of 100 consecutive failures ends
// in a long but limited pause, never a permanent lock; the help desk can lift
// any of them (Lift).
//
// The regulator fails closed: any store error is returned, and callers must
// then refuse the attempt.
//
// Key IDs (directory DNs, phone numbers, chat user IDs, typed logins) never
// reach the store: store keys are HMAC-SHA-256 under the deployment's key
// (keys.hmac, derived per purpose), so a store dump can neither be read back
// nor dictionary-attacked without that key.
package regulation

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Scope says what a Key identifies.
type Scope string

// Scopes of regulated keys.
const (
	// ScopeUser is a directory account, by its stable key (the DN): an
	// account key, shared across channels and across every alias of the
	// account.
	ScopeUser Scope = "user"
	// ScopeTyped is what was typed at the login prompt, canonicalized (see
	// Canonical): an account key that an unknown login and a real one get
	// alike, so a pause looks the same whether or not the account exists.
	ScopeTyped Scope = "typed"
	// ScopeChannelUser is a chat identity, e.g. "slack:T123:U456": an
	// identity key.
	ScopeChannelUser Scope = "channel"
	// ScopeCaller is a phone caller number: an identity key (a throttle key
	// only: caller ID can be spoofed, so it is never proof of identity).
	ScopeCaller Scope = "caller"
	// ScopeDestination is a phone number or address codes are sent to.
	ScopeDestination Scope = "destination"
)

// Key is one regulated identity. Factor, when set, keeps separate counts per
// verification factor (or independence group): failures on the authenticator
// and failures on the phone are counted apart, and a success on one does not
// clear the other.
type Key struct {
	Scope  Scope
	ID     string
	Factor string
}

// User returns the key of a directory user (its stable ID, the DN).
func User(id string) Key { return Key{Scope: ScopeUser, ID: id} }

// ChannelUser returns the key of a chat identity ("slack:T123:U456").
func ChannelUser(id string) Key { return Key{Scope: ScopeChannelUser, ID: id} }

// Caller returns the key of a phone caller number (E.164).
func Caller(id string) Key { return Key{Scope: ScopeCaller, ID: id} }

// Destination returns the key of a code destination (phone number or address).
func Destination(id string) Key { return Key{Scope: ScopeDestination, ID: id} }

// For returns k counted for one factor.
func (k Key) For(factor string) Key { k.Factor = factor; return k }

// Account reports whether k is an account key (soft limits) rather than an
// identity key (hard limits, and the only source of delays).
func (k Key) Account() bool { return k.Scope == ScopeUser || k.Scope == ScopeTyped }

// Canonical folds the forms one login takes into one string, so that "X",
// "x@corp.example", "X@anything" and `CORP\x` are one typed key: AD always
// answers to both the login and its UPN, so an unknown login must share its
// counts across the same forms or comparing them would tell a real account
// from an unknown one. Case and surrounding space are folded too.
func Canonical(typed string) string {
	s := strings.ToLower(strings.TrimSpace(typed))
	if i := strings.LastIndexByte(s, '\\'); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.IndexByte(s, '@'); i > 0 {
		s = s[:i]
	}
	return s
}

func (k Key) valid() error {
	switch k.Scope {
	case ScopeUser, ScopeTyped, ScopeChannelUser, ScopeCaller, ScopeDestination:
	default:
		return fmt.Errorf("regulation: unknown scope %q", k.Scope)
	}
	if k.ID == "" {
		return fmt.Errorf("regulation: empty %s key", k.Scope)
	}
	if !utf8.ValidString(k.Factor) || strings.ContainsRune(k.Factor, 0) {
		return fmt.Errorf("regulation: invalid factor in %s key", k.Scope)
	}
	return nil
}

// MinKeyBytes is the shortest HMAC key New accepts.
const MinKeyBytes = 32

// namer turns identifiers into store key names with HMAC-SHA-256, so the
// store holds no personal data and no unkeyed hash of it.
type namer struct{ key []byte }

// name is 128 bits of HMAC over the parts, base64url.
func (n namer) name(parts ...string) string {
	m := hmac.New(sha256.New, n.key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// storeKey is the prefix of one key's records. The {tag} keeps all of a
// key's records in one Redis Cluster slot.
func (n namer) storeKey(k Key) string {
	return "reg:{" + n.name("attempts", string(k.Scope), k.Factor, k.ID) + "}"
}

// Reasons in a Decision.
const (
	// ReasonBanned: a time-bound ban is in force (Until says till when).
	ReasonBanned = "banned"
	// ReasonTooManyFailures: this failure reached the window's limit and
	// started a ban.
	ReasonTooManyFailures = "too_many_failures"
	// ReasonTooManyAttempts: the window's attempts are all taken (answers
	// still being checked count); refused without checking anything.
	ReasonTooManyAttempts = "too_many_attempts"
	// ReasonHardCap: MaxConsecutive consecutive failures; paused for
	// HardCapBan (NIST 800-63B), or until a help-desk Lift.
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
	// RetryAfter is how long until a refused key is allowed again.
	RetryAfter time.Duration
	// Until is when a refused key is allowed again (now + RetryAfter), for
	// "paused until 07:45" messages.
	Until time.Time
	// Delay is the progressive delay to wait before answering, from the
	// identity keys only (never from the account: see the package doc).
	Delay time.Duration
	// Reason says why Allowed is false (empty when allowed).
	Reason string
	// Key is the key that caused the refusal, for the audit line and for
	// telling an account pause from an identity throttle (the zero Key for
	// ReasonGlobalBudget).
	Key Key
	// Started is set by Fail when this very failure started a ban on Key:
	// the moment to notify the account's owner (see Notice).
	Started bool
}

// Regulator enforces Limits and SendLimits. It is safe for concurrent use,
// also across processes sharing one store.
type Regulator struct {
	st  Store
	n   namer
	l   Limits
	s   SendLimits
	now func() time.Time
}

// New returns a regulator over st whose store keys are HMACs under key (at
// least MinKeyBytes; derive it from keys.hmac for this purpose only). Zero
// fields of l and s take their defaults (see Limits and SendLimits); clock
// nil means time.Now.
func New(st Store, key []byte, l Limits, s SendLimits, clock func() time.Time) (*Regulator, error) {
	if len(key) < MinKeyBytes {
		return nil, fmt.Errorf("regulation: HMAC key of %d bytes, need at least %d", len(key), MinKeyBytes)
	}
	if st == nil {
		return nil, errors.New("regulation: no store")
	}
	if clock == nil {
		clock = time.Now
	}
	return &Regulator{st: st, n: namer{append([]byte(nil), key...)}, l: l.withDefaults(), s: s.withDefaults(), now: clock}, nil
}

// Typed returns the key of what was typed at the login prompt: its ID is an
// HMAC of the canonical form (see Canonical), so it can sit in a session
// record without keeping what was typed (sometimes a password, typed at the
// wrong prompt).
func (r *Regulator) Typed(typed string) Key {
	return Key{Scope: ScopeTyped, ID: "t:" + r.n.name("typed", Canonical(typed))}
}

// KeyName returns a store key name for a counter of purpose about id kept
// outside the regulator (e.g. the unlock cap): an HMAC under the
// regulator's key, so the store never holds id.
func (r *Regulator) KeyName(purpose, id string) string {
	return "reg:" + purpose + ":{" + r.n.name("counter", purpose, id) + "}"
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
