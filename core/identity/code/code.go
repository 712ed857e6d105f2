// Package code issues and checks the one-time codes resetbot sends by SMS, voice
// call and email.
//
// A code lives in one challenge, named by a key the caller builds from the
// session id, the purpose and the directory user, so a code issued in one
// session never matches in another. The store keeps only HMAC-SHA256(server key,
// challenge key, code), an attempt counter and the expiry: a plain hash of six
// digits would be reversed in microseconds, a keyed one cannot be without the key.
// Codes are single use, expire after at most 10 minutes, are burned after
// MaxAttempts wrong tries and are replaced by a resend; every change of a
// challenge is a compare-and-swap, so concurrent checks of the right code succeed
// exactly once and concurrent wrong guesses are all counted.
package code

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store"
)

// Defaults and limits for Options.
const (
	DefaultDigits         = 6
	DefaultTTL            = 10 * time.Minute
	MaxTTL                = 10 * time.Minute // ASVS 2.7.2 / NIST 63B 5.1.3.2
	DefaultMaxAttempts    = 5
	DefaultResendCooldown = 30 * time.Second
	// MinKeySize is the shortest accepted HMAC key in bytes.
	MinKeySize = 32
)

const maxCASRetries = 16

// Options configures Codes. Zero fields take the defaults.
type Options struct {
	// Digits is the code length, 6 (default) to 8.
	Digits int
	// TTL is how long a code stays valid (default and maximum 10 minutes).
	TTL time.Duration
	// MaxAttempts is how many wrong codes burn a challenge (default 5, at most 10).
	MaxAttempts int
	// ResendCooldown is the minimum time between two codes for one challenge
	// (default 30 s). It limits toll fraud and message floods.
	ResendCooldown time.Duration
	// Clock returns the current time (default time.Now).
	Clock func() time.Time
	// Rand is the source of codes (default crypto/rand.Reader).
	Rand io.Reader
}

// Codes issues and checks one-time codes. It is safe for concurrent use,
// including by many processes sharing one store.
type Codes struct {
	st   store.Store
	key  []byte
	opts Options
	err  error
}

// Issued is the result of Issue.
type Issued struct {
	// Code is the new code, to be sent to the destination. Empty when Wait > 0.
	Code secret.String
	// Wait > 0 means the previous code was issued less than ResendCooldown ago:
	// nothing was issued, the previous code stays valid, try again after Wait.
	Wait time.Duration
	// ExpiresAt is when the new code stops being accepted (zero when Wait > 0).
	ExpiresAt time.Time
	// Again means the live code was issued for this very delivery
	// (IssueAttempt): nothing was issued and nothing is to be sent, the
	// code sent by the first try stays valid. ExpiresAt is its expiry.
	Again bool
}

// New returns Codes keeping challenges in st and keying their hashes with
// hmacKey (at least 32 bytes, from configuration; rotating it voids live codes
// only). Invalid options are reported by Validate and by every method.
func New(st store.Store, hmacKey []byte, opts Options) *Codes {
	if opts.Digits == 0 {
		opts.Digits = DefaultDigits
	}
	if opts.TTL == 0 {
		opts.TTL = DefaultTTL
	}
	if opts.MaxAttempts == 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.ResendCooldown == 0 {
		opts.ResendCooldown = DefaultResendCooldown
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	c := &Codes{st: st, key: append([]byte(nil), hmacKey...), opts: opts}
	c.err = c.validate()
	return c
}

func (c *Codes) validate() error {
	var errs []error
	if c.st == nil {
		errs = append(errs, errors.New("no store"))
	}
	if len(c.key) < MinKeySize {
		errs = append(errs, fmt.Errorf("hmac key has %d bytes, want at least %d", len(c.key), MinKeySize))
	}
	if c.opts.Digits < 6 || c.opts.Digits > 8 {
		errs = append(errs, fmt.Errorf("digits must be 6 to 8, not %d", c.opts.Digits))
	}
	if c.opts.TTL < 0 || c.opts.TTL > MaxTTL {
		errs = append(errs, fmt.Errorf("ttl %s is outside (0, %s]", c.opts.TTL, MaxTTL))
	}
	if c.opts.MaxAttempts < 1 || c.opts.MaxAttempts > 10 {
		errs = append(errs, fmt.Errorf("max attempts %d is outside 1-10", c.opts.MaxAttempts))
	}
	if c.opts.ResendCooldown < 0 || c.opts.ResendCooldown >= c.opts.TTL {
		errs = append(errs, fmt.Errorf("resend cooldown %s must be non-negative and below the ttl", c.opts.ResendCooldown))
	}
	if len(errs) > 0 {
		return fmt.Errorf("code: %w: %w", identity.ErrInvalidConfig, errors.Join(errs...))
	}
	return nil
}

// Validate reports invalid options (startup check).
func (c *Codes) Validate() error { return c.err }

func (c *Codes) ready(challengeKey string) error {
	if c.err != nil {
		return c.err
	}
	if challengeKey == "" {
		return fmt.Errorf("code: %w: empty challenge key", identity.ErrInvalidInput)
	}
	return nil
}

func storeKey(challengeKey string) string { return "code:" + challengeKey }

// Issue draws a new code for the challenge and replaces any previous one, which
// stops matching at once. Within ResendCooldown of the previous code it issues
// nothing and returns the time to wait. factor must be SMS, voice or email;
// destination (the number or address of record the caller will send to) is not
// stored, only a keyed fingerprint of it, so a store dump holds no contact data.
func (c *Codes) Issue(ctx context.Context, challengeKey string, factor identity.Factor, destination string) (Issued, error) {
	return c.IssueAttempt(ctx, challengeKey, factor, destination, "")
}

// IssueAttempt is Issue for one platform delivery (attempt, e.g. a Slack
// event or a key press; "" for none). When the live code of the challenge
// was issued for this same delivery and destination, it issues nothing and
// returns Again: the platform retrying a turn whose send went out but whose
// session was never saved (the store failing over before the commit was
// acknowledged) must not send a second code — toll fraud, and a person
// holding two codes of which only the second works. This holds whatever
// the resend cooldown. Any other delivery is an ordinary Issue.
func (c *Codes) IssueAttempt(ctx context.Context, challengeKey string, factor identity.Factor, destination, attempt string) (Issued, error) {
	if err := c.ready(challengeKey); err != nil {
		return Issued{}, err
	}
	if factor != identity.FactorSMS && factor != identity.FactorVoice && factor != identity.FactorEmail {
		return Issued{}, fmt.Errorf("code: %w: factor %q does not take one-time codes", identity.ErrInvalidInput, factor)
	}
	if destination == "" {
		return Issued{}, fmt.Errorf("code: %w: empty destination", identity.ErrInvalidInput)
	}
	key := storeKey(challengeKey)
	for range maxCASRetries {
		now := c.opts.Clock()
		var version uint64
		rec, err := c.st.Get(ctx, key)
		switch {
		case err == nil:
			prev, derr := decode(rec.Value)
			// An unreadable record is replaced: it can hold no usable code.
			if derr == nil && c.issuedFor(prev, challengeKey, destination, attempt, now) {
				return Issued{Again: true, ExpiresAt: prev.expiry}, nil
			}
			if derr == nil {
				if wait := prev.issued.Add(c.opts.ResendCooldown).Sub(now); wait > 0 {
					return Issued{Wait: wait}, nil
				}
			}
			version = rec.Version
		case !errors.Is(err, store.ErrNotFound):
			return Issued{}, fmt.Errorf("code: reading challenge: %w", err)
		}
		code, err := c.generate()
		if err != nil {
			return Issued{}, err
		}
		r := record{
			factor: factor,
			digits: c.opts.Digits,
			issued: now,
			expiry: now.Add(c.opts.TTL),
			mac:    c.mac(challengeKey, code),
			dest:   c.fingerprint(destination),
		}
		if attempt != "" {
			r.issuedFor = c.issueTag(challengeKey, attempt)
		}
		_, err = c.st.CompareAndSwap(ctx, key, version, r.encode(), c.opts.TTL)
		if errors.Is(err, store.ErrConflict) {
			continue // a concurrent Issue or Check changed the challenge: decide again
		}
		if err != nil {
			return Issued{}, fmt.Errorf("code: storing challenge: %w", err)
		}
		return Issued{Code: secret.New(code), ExpiresAt: r.expiry}, nil
	}
	return Issued{}, fmt.Errorf("code: storing challenge: %w", store.ErrConflict)
}

// issuedFor reports whether prev is a live, unused code issued for this
// delivery to this destination (IssueAttempt).
func (c *Codes) issuedFor(prev record, challengeKey, destination, attempt string, now time.Time) bool {
	return attempt != "" && len(prev.issuedFor) == attemptTagSize && !prev.used && now.Before(prev.expiry) &&
		hmac.Equal(prev.issuedFor, c.issueTag(challengeKey, attempt)) &&
		hmac.Equal(prev.dest, c.fingerprint(destination))
}

// generate draws Digits uniform decimal digits, leading zeros kept. Bytes of
// 250 and above are rejected so that byte % 10 carries no modulo bias.
func (c *Codes) generate() (string, error) {
	out := make([]byte, 0, c.opts.Digits)
	buf := make([]byte, c.opts.Digits+4)
	for len(out) < c.opts.Digits {
		if _, err := io.ReadFull(c.opts.Rand, buf); err != nil {
			return "", fmt.Errorf("code: reading random: %w", err)
		}
		for _, b := range buf {
			if b < 250 && len(out) < c.opts.Digits {
				out = append(out, '0'+b%10)
			}
		}
	}
	return string(out), nil
}

// mac binds the code to its challenge: the same digits in another session give
// another MAC. The code is last and all digits, so the input is unambiguous.
func (c *Codes) mac(challengeKey, code string) []byte {
	h := hmac.New(sha256.New, c.key)
	h.Write([]byte("resetbot.code.v1\x00"))
	h.Write([]byte(challengeKey))
	h.Write([]byte{0})
	h.Write([]byte(code))
	return h.Sum(nil)
}

func (c *Codes) fingerprint(destination string) []byte {
	h := hmac.New(sha256.New, c.key)
	h.Write([]byte("resetbot.destination.v1\x00"))
	h.Write([]byte(destination))
	return h.Sum(nil)[:fingerprintSize]
}

// normalise removes the spaces and dashes people type or read codes with.
func normalise(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '\t', '\u00a0':
			return -1
		}
		return r
	}, s)
}

func wellFormed(s string, digits int) bool {
	if len(s) != digits {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
