// Package totp verifies codes from authenticator apps (RFC 6238, HMAC-SHA1, 6
// digits, 30 s steps) and enrolls the apps.
//
// Seeds are 20 random bytes, sealed with a crypt.Keyring under associated data
// naming the user, so a store dump holds no seed and a seed copied onto another
// user's record does not open. Codes are accepted within ±Skew steps (±1 by
// default: 90 s in all, a documented exception to ASVS 5.0 6.5.5's 30 s, needed for
// codes typed on a phone keypad) and each time step is accepted at most once per
// user: the last accepted step is kept in the store and only a later step passes,
// decided with compare-and-swap so that two replicas, or two channels, given the
// same code at the same moment accept it exactly once.
//
// pquerna/otp does the code arithmetic. It has no replay guard and does not say
// which step matched, so this package tries each step itself.
package totp

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"

	"github.com/resetbot/resetbot/core/crypt"
	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store"
)

// Defaults for Options.
const (
	DefaultIssuer     = "resetbot"
	DefaultPeriod     = 30
	DefaultSkew       = 1
	DefaultDigits     = 6
	DefaultPendingTTL = 10 * time.Minute
	// SeedSize is the seed length in bytes: 160 bits, above the 112 of ASVS 6.5.3.
	SeedSize = 20
)

// stepTTL bounds how long the last accepted step is remembered. A step can only
// match while the clock is within Skew steps of it (a few minutes at most), so an
// hour is ample even with clock drift between replicas; it also keeps every
// non-enrollment key in the store under a TTL.
const stepTTL = time.Hour

// maxCASRetries bounds the compare-and-swap loops; real contention on one user's
// key is two or three concurrent submissions.
const maxCASRetries = 16

// Options configures a Verifier. Zero fields take the defaults.
type Options struct {
	// Issuer is shown by authenticator apps next to the account. It must not contain ':'.
	Issuer string
	// Period is the time step in seconds (default 30).
	Period uint
	// Skew is how many steps before and after the current one are accepted
	// (default 1, at most 2). Zero means the default: a zero window is not offered
	// because codes typed on a phone keypad routinely cross a step boundary.
	Skew uint
	// Digits is the code length, 6 (default) or 8.
	Digits int
	// PendingTTL is how long an enrollment waits for its first code (default 10 min).
	PendingTTL time.Duration
	// Clock returns the current time (default time.Now). Server time only: never
	// a timestamp taken from a chat event.
	Clock func() time.Time
	// Rand is the source of seeds (default crypto/rand.Reader).
	Rand io.Reader
}

// Verifier enrolls authenticator apps and checks their codes. It is safe for
// concurrent use, including by many processes sharing one store.
type Verifier struct {
	st   store.Store
	kr   *crypt.Keyring
	opts Options
	err  error
}

// New returns a Verifier keeping its state in st and sealing seeds with kr.
// Invalid options are reported by Validate and by every method.
func New(st store.Store, kr *crypt.Keyring, opts Options) *Verifier {
	if opts.Issuer == "" {
		opts.Issuer = DefaultIssuer
	}
	if opts.Period == 0 {
		opts.Period = DefaultPeriod
	}
	if opts.Skew == 0 {
		opts.Skew = DefaultSkew
	}
	if opts.Digits == 0 {
		opts.Digits = DefaultDigits
	}
	if opts.PendingTTL == 0 {
		opts.PendingTTL = DefaultPendingTTL
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	v := &Verifier{st: st, kr: kr, opts: opts}
	v.err = v.validate()
	return v
}

func (v *Verifier) validate() error {
	var errs []error
	if v.st == nil {
		errs = append(errs, errors.New("no store"))
	}
	if v.kr == nil {
		errs = append(errs, errors.New("no keyring"))
	}
	if strings.Contains(v.opts.Issuer, ":") {
		errs = append(errs, errors.New("issuer must not contain ':'"))
	}
	if v.opts.Digits != 6 && v.opts.Digits != 8 {
		errs = append(errs, fmt.Errorf("digits must be 6 or 8, not %d", v.opts.Digits))
	}
	if v.opts.Skew > 2 {
		errs = append(errs, fmt.Errorf("skew %d is above 2: it widens the guessing window", v.opts.Skew))
	}
	if v.opts.Period < 15 || v.opts.Period > 120 {
		errs = append(errs, fmt.Errorf("period %ds is outside 15-120s", v.opts.Period))
	}
	if v.opts.PendingTTL < 0 {
		errs = append(errs, errors.New("negative pending ttl"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("totp: %w: %w", identity.ErrInvalidConfig, errors.Join(errs...))
	}
	return nil
}

// Validate reports invalid options (startup check).
func (v *Verifier) Validate() error { return v.err }

// Factor returns identity.FactorTOTP.
func (v *Verifier) Factor() identity.Factor { return identity.FactorTOTP }

func (v *Verifier) ready(userKey string) error {
	if v.err != nil {
		return v.err
	}
	if userKey == "" {
		return fmt.Errorf("totp: %w: empty user key", identity.ErrInvalidInput)
	}
	return nil
}

// Store keys. The user key is opaque and comes last, so no user key can forge
// another namespace's key.
func seedKey(userKey string) string    { return "totp:seed:" + userKey }
func pendingKey(userKey string) string { return "totp:pending:" + userKey }
func stepKey(userKey string) string    { return "totp:step:" + userKey }

// Associated data binds a sealed seed to its user and its role, so neither
// another user's seed nor a pending seed can be substituted for an enrollment.
func seedAAD(userKey string) []byte    { return []byte("totp:seed\x00" + userKey) }
func pendingAAD(userKey string) []byte { return []byte("totp:pending\x00" + userKey) }

// seedFormat is the first byte of a sealed seed's plaintext.
const seedFormat byte = 1

func (v *Verifier) seal(seed, aad []byte) ([]byte, error) {
	pt := append([]byte{seedFormat}, seed...)
	ct, err := v.kr.Seal(pt, aad)
	clear(pt)
	if err != nil {
		return nil, fmt.Errorf("totp: sealing seed: %w", err)
	}
	return ct, nil
}

func (v *Verifier) open(ct, aad []byte) ([]byte, error) {
	pt, err := v.kr.Open(ct, aad)
	if err != nil {
		return nil, fmt.Errorf("totp: opening seed: %w", err)
	}
	if len(pt) != 1+SeedSize || pt[0] != seedFormat {
		return nil, fmt.Errorf("totp: opening seed: unknown record format")
	}
	return pt[1:], nil
}

// normalise strips the spaces and dashes apps and users put in codes and reports
// whether what is left has the right shape. A malformed code is simply Wrong.
func (v *Verifier) normalise(code secret.String) (string, bool) {
	s := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, code.Reveal())
	if len(s) != v.opts.Digits {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", false
		}
	}
	return s, true
}

// matches returns the time steps within ±Skew of now whose code equals code,
// in increasing order. Every step is computed and compared in constant time.
func (v *Verifier) matches(seed []byte, code string) ([]int64, error) {
	b32 := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(seed)
	// Digits and Algorithm are always set: with Digits left at zero pquerna/otp
	// rejects every code (its default is applied after the length check).
	vo := hotp.ValidateOpts{Digits: otp.Digits(v.opts.Digits), Algorithm: otp.AlgorithmSHA1}
	now := v.opts.Clock().Unix() / int64(v.opts.Period)
	var out []int64
	for d := -int64(v.opts.Skew); d <= int64(v.opts.Skew); d++ {
		step := now + d
		if step < 0 {
			continue
		}
		want, err := hotp.GenerateCodeCustom(b32, uint64(step), vo)
		if err != nil {
			return nil, fmt.Errorf("totp: computing code: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			out = append(out, step)
		}
	}
	return out, nil
}

// Verify checks a code for an enrolled user. It returns Verified once per time
// step, Replayed for a right code whose step (or a later one) was already
// accepted, and Wrong otherwise. A user without an enrollment gets
// identity.ErrNotEnrolled.
func (v *Verifier) Verify(ctx context.Context, userKey string, code secret.String) (identity.Result, error) {
	return v.VerifyAttempt(ctx, userKey, code, "")
}

// VerifyAttempt is Verify for one platform delivery (attempt: a Slack event,
// a key press; "" for none). The step a delivery was accepted for is
// accepted again for that same delivery of the same user: the platform
// retrying a turn whose check recorded the step but whose session was never
// saved (the store failing over between the two) gets the answer the first
// try got instead of "code already used". Any other delivery, a plain
// Verify, or a right code of an earlier step is still a replay: the record
// keeps the step and a tag of the delivery keyed by the seed, so the tag
// can be neither forged nor reused for another user.
func (v *Verifier) VerifyAttempt(ctx context.Context, userKey string, code secret.String, attempt string) (identity.Result, error) {
	if err := v.ready(userKey); err != nil {
		return identity.Wrong, err
	}
	rec, seed, steps, err := v.installed(ctx, userKey, code)
	defer clear(seed)
	if errors.Is(err, store.ErrNotFound) {
		return identity.Wrong, fmt.Errorf("totp: %w", identity.ErrNotEnrolled)
	}
	if err != nil || len(steps) == 0 {
		return identity.Wrong, err
	}
	var tag string
	if attempt != "" {
		tag = attemptTag(seed, userKey, attempt)
	}
	res, err := v.accept(ctx, userKey, steps, tag)
	if err == nil && res == identity.Verified {
		v.rotate(ctx, userKey, rec, seed)
	}
	return res, err
}

// installed reads and opens userKey's installed seed and returns the time
// steps code matches under it (none for a malformed or wrong code). No
// enrollment is store.ErrNotFound. The caller clears seed, which may be nil.
func (v *Verifier) installed(ctx context.Context, userKey string, code secret.String) (store.Record, []byte, []int64, error) {
	rec, err := v.st.Get(ctx, seedKey(userKey))
	if errors.Is(err, store.ErrNotFound) {
		return rec, nil, nil, err
	}
	if err != nil {
		return rec, nil, nil, fmt.Errorf("totp: reading enrollment: %w", err)
	}
	seed, err := v.open(rec.Value, seedAAD(userKey))
	if err != nil {
		return rec, nil, nil, err
	}
	norm, ok := v.normalise(code)
	if !ok {
		return rec, seed, nil, nil
	}
	steps, err := v.matches(seed, norm)
	return rec, seed, steps, err
}

// accept records the earliest matching step later than the last accepted one.
// The compare-and-swap makes the check-then-write atomic across processes: of
// two submissions of one code, exactly one writes the step, the other re-reads
// it and sees a replay. tag names the delivery ("" for none): a step already
// accepted for the same tag is accepted again without a write (VerifyAttempt).
func (v *Verifier) accept(ctx context.Context, userKey string, steps []int64, tag string) (identity.Result, error) {
	key := stepKey(userKey)
	for range maxCASRetries {
		last, lastTag, version := int64(-1), "", uint64(0)
		rec, err := v.st.Get(ctx, key)
		switch {
		case err == nil:
			last, lastTag, err = parseStep(rec.Value)
			if err != nil {
				return identity.Wrong, err
			}
			version = rec.Version
		case !errors.Is(err, store.ErrNotFound):
			return identity.Wrong, fmt.Errorf("totp: reading last step: %w", err)
		}
		if tag != "" && lastTag != "" && subtle.ConstantTimeCompare([]byte(tag), []byte(lastTag)) == 1 && slices.Contains(steps, last) {
			return identity.Verified, nil
		}
		step := int64(-1)
		for _, s := range steps {
			if s > last {
				step = s
				break
			}
		}
		if step < 0 {
			return identity.Replayed, nil
		}
		val := strconv.FormatInt(step, 10)
		if tag != "" {
			val += "/" + tag
		}
		_, err = v.st.CompareAndSwap(ctx, key, version, []byte(val), stepTTL)
		if err == nil {
			return identity.Verified, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return identity.Wrong, fmt.Errorf("totp: recording step: %w", err)
		}
	}
	return identity.Wrong, fmt.Errorf("totp: recording step: %w", store.ErrConflict)
}

// parseStep reads a step record: the last accepted step, then, when the
// step was accepted for a platform delivery, "/" and that delivery's tag.
// Records written before tags existed are a bare step.
func parseStep(b []byte) (int64, string, error) {
	s, tag, _ := strings.Cut(string(b), "/")
	step, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, "", fmt.Errorf("totp: corrupt step record: %w", err)
	}
	return step, tag, nil
}

// attemptTag is the tag of a delivery in a step record: an HMAC keyed by the
// user's seed, so it cannot be computed without the seed and differs between
// users for one delivery. 8 bytes (hex) are ample to tell one delivery from
// another for a single user's last step.
func attemptTag(seed []byte, userKey, attempt string) string {
	h := hmac.New(sha256.New, seed)
	h.Write([]byte("resetbot.totp.attempt.v1\x00"))
	h.Write([]byte(userKey))
	h.Write([]byte{0})
	h.Write([]byte(attempt))
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// rotate re-seals an enrollment sealed by a retired primary key. It is best
// effort: a lost race or a failure leaves the old, still readable record.
func (v *Verifier) rotate(ctx context.Context, userKey string, rec store.Record, seed []byte) {
	if !v.kr.NeedsRotation(rec.Value) {
		return
	}
	ct, err := v.seal(seed, seedAAD(userKey))
	if err != nil {
		return
	}
	_, _ = v.st.CompareAndSwap(ctx, seedKey(userKey), rec.Version, ct, 0)
}
