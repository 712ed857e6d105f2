package totp

import (
	"context"
	"errors"

	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/secret"
)

// Method plugs the authenticator app into the flows (identity.Method and
// identity.Enroller): group "app", the strongest built-in factor.
type Method struct {
	V *Verifier
}

var (
	_ identity.Method   = Method{}
	_ identity.Enroller = Method{}

	_ identity.AttemptConfirmer = Method{}
)

// Factor returns identity.FactorTOTP.
func (Method) Factor() identity.Factor { return identity.FactorTOTP }

// Group returns identity.GroupApp.
func (Method) Group() identity.Group { return identity.GroupApp }

// Strength returns identity.StrengthApp.
func (Method) Strength() identity.Strength { return identity.StrengthApp }

// Has reports whether the subject has a confirmed authenticator.
func (m Method) Has(ctx context.Context, s identity.Subject) (bool, error) {
	if s.Nobody() {
		return false, nil
	}
	return m.V.Enrolled(ctx, s.Key)
}

// Challenge sends nothing: the person reads the code from the app.
func (Method) Challenge(context.Context, identity.Challenge) (identity.Prompt, error) {
	return identity.Prompt{MessageID: "totp.prompt", Digits: 6}, nil
}

// Verify checks an authenticator code. Nobody and not enrolled answer
// exactly like a wrong code. The challenge's Attempt (the platform
// delivery) lets a retried delivery be accepted again (VerifyAttempt).
func (m Method) Verify(ctx context.Context, ch identity.Challenge, answer secret.String) (identity.Result, error) {
	if ch.Subject.Nobody() {
		return identity.Wrong, nil
	}
	res, err := m.V.VerifyAttempt(ctx, ch.Subject.Key, answer, ch.Attempt)
	if errors.Is(err, identity.ErrNotEnrolled) {
		return identity.Wrong, nil
	}
	return res, err
}

// Begin starts an enrollment for the subject.
func (m Method) Begin(ctx context.Context, s identity.Subject) (identity.Enrollment, error) {
	en, err := m.V.Begin(ctx, s.Key, s.Login)
	if err != nil {
		return identity.Enrollment{}, err
	}
	return identity.Enrollment{QRPNG: en.QRPNG, Secret: en.Secret}, nil
}

// ConfirmAttempt is Confirm for one platform delivery: a retried delivery
// whose first try confirmed is Verified again (Verifier.ConfirmAttempt).
func (m Method) ConfirmAttempt(ctx context.Context, s identity.Subject, answer secret.String, attempt string) (identity.Result, error) {
	return m.V.ConfirmAttempt(ctx, s.Key, answer, attempt)
}

// Confirm checks the first code from the new app.
func (m Method) Confirm(ctx context.Context, s identity.Subject, answer secret.String) (identity.Result, error) {
	return m.V.Confirm(ctx, s.Key, answer)
}
