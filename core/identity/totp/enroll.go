package totp

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"image/png"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store"
)

// QRSize is the width and height in pixels of Enrollment.QRPNG.
const QRSize = 256

// usedPending marks a pending enrollment consumed by Confirm. It is not a valid
// sealed record (crypt's format byte is 1), so it can never be mistaken for one.
var usedPending = []byte("used")

// Enrollment is what a user needs to add the account to an authenticator app.
// Show it once, privately (a DM or ephemeral message, deleted after Confirm);
// it is never shown again.
type Enrollment struct {
	// Secret is the seed in base32 without padding, for typing in by hand.
	Secret secret.String
	// URL is the otpauth:// URI, which embeds the seed.
	URL secret.String
	// QRPNG is a PNG of the URL as a QR code. It embeds the seed: treat it as a secret.
	QRPNG []byte
}

// Begin starts an enrollment for userKey: it draws a fresh seed and keeps it,
// sealed, as pending for PendingTTL. The enrollment takes effect only when
// Confirm receives a code from it, so a QR code that was never scanned replaces
// nothing. A new Begin replaces a pending one. accountName is the label shown in
// the app (login or email) and must not contain ':'.
//
// Begin does not decide whether the user may enroll: binding a new factor needs
// prior verification, which is the flow's job.
func (v *Verifier) Begin(ctx context.Context, userKey, accountName string) (Enrollment, error) {
	if err := v.ready(userKey); err != nil {
		return Enrollment{}, err
	}
	if accountName == "" || strings.Contains(accountName, ":") {
		return Enrollment{}, fmt.Errorf("totp: %w: account name must be non-empty and free of ':'", identity.ErrInvalidInput)
	}
	seed := make([]byte, SeedSize)
	defer clear(seed)
	if _, err := io.ReadFull(v.opts.Rand, seed); err != nil {
		return Enrollment{}, fmt.Errorf("totp: reading random seed: %w", err)
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      v.opts.Issuer,
		AccountName: accountName,
		Period:      v.opts.Period,
		Secret:      seed,
		Digits:      otp.Digits(v.opts.Digits),
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return Enrollment{}, fmt.Errorf("totp: building key: %w", err)
	}
	img, err := key.Image(QRSize, QRSize)
	if err != nil {
		return Enrollment{}, fmt.Errorf("totp: drawing QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return Enrollment{}, fmt.Errorf("totp: encoding QR code: %w", err)
	}
	ct, err := v.seal(seed, pendingAAD(userKey))
	if err != nil {
		return Enrollment{}, err
	}
	if _, err := v.st.Set(ctx, pendingKey(userKey), ct, v.opts.PendingTTL); err != nil {
		return Enrollment{}, fmt.Errorf("totp: storing pending enrollment: %w", err)
	}
	return Enrollment{Secret: secret.New(key.Secret()), URL: secret.New(key.URL()), QRPNG: buf.Bytes()}, nil
}

// Confirm checks the first code from a pending enrollment. Verified means the app
// is set up: the seed becomes the user's enrollment (replacing any previous one)
// and the code's step counts as used, so the same code cannot pass Verify.
// Expired means no enrollment is pending (never begun, timed out or already
// confirmed); Wrong means the code did not match and the enrollment stays pending.
func (v *Verifier) Confirm(ctx context.Context, userKey string, code secret.String) (identity.Result, error) {
	return v.ConfirmAttempt(ctx, userKey, code, "")
}

// ConfirmAttempt is Confirm for one platform delivery (attempt; "" for
// none). The same delivery confirming again after its first try installed
// the seed (a turn whose commit a failover lost, retried by the platform)
// is Verified again, with the same code, instead of Expired: otherwise the
// person would be shown a new QR code for an app that is already set up.
// Any other delivery still finds the enrollment consumed.
func (v *Verifier) ConfirmAttempt(ctx context.Context, userKey string, code secret.String, attempt string) (identity.Result, error) {
	if err := v.ready(userKey); err != nil {
		return identity.Wrong, err
	}
	for range maxCASRetries {
		rec, err := v.st.Get(ctx, pendingKey(userKey))
		if err == nil && bytes.Equal(rec.Value, usedPending) && attempt != "" {
			return v.confirmedFor(ctx, userKey, code, attempt)
		}
		if errors.Is(err, store.ErrNotFound) || (err == nil && bytes.Equal(rec.Value, usedPending)) {
			return identity.Expired, nil
		}
		if err != nil {
			return identity.Wrong, fmt.Errorf("totp: reading pending enrollment: %w", err)
		}
		seed, err := v.open(rec.Value, pendingAAD(userKey))
		if err != nil {
			return identity.Wrong, err
		}
		res, err := v.confirmSeed(ctx, userKey, rec.Version, seed, code, attempt)
		clear(seed)
		if !errors.Is(err, store.ErrConflict) {
			return res, err
		}
		// Another Confirm or a new Begin changed the pending record: look again.
	}
	return identity.Wrong, fmt.Errorf("totp: confirming: %w", store.ErrConflict)
}

func (v *Verifier) confirmSeed(ctx context.Context, userKey string, version uint64, seed []byte, code secret.String, attempt string) (identity.Result, error) {
	norm, ok := v.normalise(code)
	if !ok {
		return identity.Wrong, nil
	}
	steps, err := v.matches(seed, norm)
	if err != nil || len(steps) == 0 {
		return identity.Wrong, err
	}
	// Consume the pending seed first, by version, so that of two concurrent
	// confirmations exactly one installs it. The marker expires with the TTL.
	if _, err := v.st.CompareAndSwap(ctx, pendingKey(userKey), version, usedPending, v.opts.PendingTTL); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return identity.Wrong, err
		}
		return identity.Wrong, fmt.Errorf("totp: consuming pending enrollment: %w", err)
	}
	ct, err := v.seal(seed, seedAAD(userKey))
	if err != nil {
		return identity.Wrong, err
	}
	if _, err := v.st.Set(ctx, seedKey(userKey), ct, 0); err != nil {
		return identity.Wrong, fmt.Errorf("totp: storing enrollment: %w", err)
	}
	// The step record now belongs to the new seed: steps accepted for an older
	// seed say nothing about it, so the value is replaced, not compared.
	last := strconv.FormatInt(steps[len(steps)-1], 10)
	if attempt != "" {
		last += "/" + attemptTag(seed, userKey, attempt)
	}
	if _, err := v.st.Set(ctx, stepKey(userKey), []byte(last), stepTTL); err != nil {
		return identity.Wrong, fmt.Errorf("totp: recording step: %w", err)
	}
	return identity.Verified, nil
}

// confirmedFor answers a delivery finding the pending enrollment consumed:
// Verified when this delivery confirmed it, with this code (the step record
// holds its step and tag under the installed seed), Expired otherwise.
func (v *Verifier) confirmedFor(ctx context.Context, userKey string, code secret.String, attempt string) (identity.Result, error) {
	_, seed, steps, err := v.installed(ctx, userKey, code)
	defer clear(seed)
	if errors.Is(err, store.ErrNotFound) {
		return identity.Expired, nil
	}
	if err != nil {
		return identity.Wrong, err
	}
	if len(steps) == 0 {
		return identity.Expired, nil
	}
	step, err := v.st.Get(ctx, stepKey(userKey))
	if errors.Is(err, store.ErrNotFound) {
		return identity.Expired, nil
	}
	if err != nil {
		return identity.Wrong, fmt.Errorf("totp: reading last step: %w", err)
	}
	last, tag, err := parseStep(step.Value)
	if err != nil {
		return identity.Wrong, err
	}
	want := attemptTag(seed, userKey, attempt)
	if tag != "" && subtle.ConstantTimeCompare([]byte(tag), []byte(want)) == 1 && slices.Contains(steps, last) {
		return identity.Verified, nil
	}
	return identity.Expired, nil
}

// Enrolled reports whether userKey has a confirmed enrollment.
func (v *Verifier) Enrolled(ctx context.Context, userKey string) (bool, error) {
	if err := v.ready(userKey); err != nil {
		return false, err
	}
	_, err := v.st.Get(ctx, seedKey(userKey))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("totp: reading enrollment: %w", err)
	}
	return true, nil
}

// Revoke removes the user's enrollment, any pending one and the replay record,
// effective immediately: the next Verify returns identity.ErrNotEnrolled.
// Revoking a user without an enrollment is not an error.
func (v *Verifier) Revoke(ctx context.Context, userKey string) error {
	if err := v.ready(userKey); err != nil {
		return err
	}
	for _, k := range []string{seedKey(userKey), pendingKey(userKey), stepKey(userKey)} {
		if err := v.st.Delete(ctx, k); err != nil {
			return fmt.Errorf("totp: revoking: %w", err)
		}
	}
	return nil
}
