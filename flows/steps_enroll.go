package flows

import (
	"context"
	"fmt"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/secret"
)

// enrollChoose offers what can be enrolled here; with one option it goes
// straight to it.
func (d *Deps) enrollChoose() engine.Step {
	options := func(c *engine.Ctx) []engine.Choice {
		out := []engine.Choice{{ID: evEnrollTOTP, MessageID: "enroll.option.app"}}
		if d.Questions != nil && !c.Voice && len(d.Questions.Catalog()) > 0 {
			out = append(out, engine.Choice{ID: evEnrollQuestions, MessageID: "enroll.option.questions"})
		}
		return out
	}
	return engine.Step{
		Auto: true,
		Prompt: func(_ context.Context, c *engine.Ctx) {
			c.Say("enroll.choose").Expect = engine.Expect{Kind: engine.ExpectChoice, Choices: options(c)}
		},
		Handle: func(_ context.Context, c *engine.Ctx, in engine.Input) (string, error) {
			opts := options(c)
			if in.Kind == 0 && len(opts) == 1 {
				return opts[0].ID, nil
			}
			for _, o := range opts {
				if in.Kind == engine.InputChoice && in.Choice == o.ID {
					return o.ID, nil
				}
			}
			if in.Kind != 0 {
				c.Say(engine.MsgBadChoice).Error = true
			}
			return "", nil
		},
	}
}

// enrollTOTP adds an authenticator app after the person proved possession of
// a factor of record: binding a new factor never rests on chat identity alone.
// The QR code is shown once, privately; the app counts only once a code from
// it is confirmed.
func (d *Deps) enrollTOTP() engine.Step {
	return engine.Step{
		Auto: true,
		Prompt: func(_ context.Context, c *engine.Ctx) {
			o := c.Say("enroll.totp.confirm")
			o.Sensitive = true
			o.Expect = engine.Expect{Kind: engine.ExpectDigits, MinDigits: 6, MaxDigits: 6}
		},
		Handle: func(ctx context.Context, c *engine.Ctx, in engine.Input) (string, error) {
			em, en, ok := d.Methods.Enroller()
			if !ok || c.Voice {
				c.Say("enroll.unavailable")
				return engine.EventCancel, nil
			}
			if !fresh(c) {
				c.Say("verify.stale")
				return engine.EventExpire, nil
			}
			u, ev, err := d.account(ctx, c)
			if ev != "" || err != nil {
				return ev, err
			}
			sub := identity.Subject{Key: userKey(u), Login: u.Login, Mobile: u.Mobile, RecoveryEmail: u.RecoveryEmail}
			if in.Kind == 0 {
				return d.beginEnroll(ctx, c, em, en, sub)
			}
			if ev, stop, err := d.gate(ctx, c, string(factorEnroll)); stop {
				return ev, err
			}
			res, err := confirm(ctx, c, en, sub, in.Value)
			if err != nil {
				return "", fmt.Errorf("confirm %s: %w", em.Factor(), err)
			}
			if res == identity.Expired {
				// The pending seed timed out: show a fresh QR code.
				c.Say("enroll.totp.expired")
				return d.beginEnroll(ctx, c, em, en, sub)
			}
			if res != identity.Verified {
				if ev, stop, err := d.failed(ctx, c, string(factorEnroll), false); stop {
					return ev, err
				}
				c.Say("verify.wrong").Error = true
				return "", nil
			}
			if err := d.succeeded(ctx, c, string(factorEnroll)); err != nil {
				return "", err
			}
			// A delivery retried after its commit was lost confirms again
			// (confirm): the owner was already noticed by its first try.
			done, err := d.alreadyDone(ctx, c, u, actEnroll)
			if err != nil {
				return "", err
			}
			if done {
				return evDone, nil
			}
			c.Audit(ctx, audit.Event{Name: "enroll.done", Factor: string(em.Factor()), Outcome: audit.OutcomeSuccess})
			d.markDone(ctx, c, u, actEnroll)
			d.notice(ctx, c, u, "notice.enroll")
			d.report(ctx, c, HandoffDone, "", "")
			return evDone, nil
		},
	}
}

// beginEnroll shows a new authenticator QR code. Replacing an app the
// account already has needs that app among the factors just passed: losing
// the phone with the app is a help-desk case, not something a code by SMS or
// email may undo.
func (d *Deps) beginEnroll(ctx context.Context, c *engine.Ctx, em identity.Method, en identity.Enroller, sub identity.Subject) (string, error) {
	on, err := em.Has(ctx, sub)
	if err != nil {
		return "", fmt.Errorf("%s enrolled: %w", em.Factor(), err)
	}
	if v := loadV(c.Session); on && !v.passed(em.Group()) {
		c.Say("enroll.replace_needs_app")
		c.Session.Set(varEscReason, "replace_app")
		return engine.EventEscalate, nil
	}
	e, err := en.Begin(ctx, sub)
	if err != nil {
		return "", fmt.Errorf("begin %s enrollment: %w", em.Factor(), err)
	}
	c.Emit(engine.Output{MessageID: "enroll.totp.scan", Sensitive: true,
		Attachment: &engine.Attachment{Kind: "qr", PNG: e.QRPNG, Text: e.Secret}})
	return "", nil
}

// confirm checks the first answer of an enrollment, for this platform
// delivery when the enroller can tell a retried delivery from a new one
// (identity.AttemptConfirmer).
func confirm(ctx context.Context, c *engine.Ctx, en identity.Enroller, sub identity.Subject, answer secret.String) (identity.Result, error) {
	if ac, ok := en.(identity.AttemptConfirmer); ok {
		return ac.ConfirmAttempt(ctx, sub, answer, c.Turn.DeliveryID)
	}
	return en.Confirm(ctx, sub, answer)
}
