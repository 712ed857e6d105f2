package flows

import (
	"context"
	"fmt"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/identity"
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
			if d.TOTP == nil || c.Voice {
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
			if in.Kind == 0 {
				return d.beginTOTP(ctx, c, u)
			}
			if ev, stop, err := d.gate(ctx, c, factorEnroll); stop {
				return ev, err
			}
			res, err := d.TOTP.Confirm(ctx, userKey(u), in.Value)
			if err != nil {
				return "", fmt.Errorf("confirm totp: %w", err)
			}
			if res == identity.Expired {
				// The pending seed timed out: show a fresh QR code.
				c.Say("enroll.totp.expired")
				return d.beginTOTP(ctx, c, u)
			}
			if res != identity.Verified {
				dec, err := d.Regulator.Fail(ctx, regKeys(c, string(factorEnroll))...)
				if err != nil {
					return "", fmt.Errorf("regulation failure: %w", err)
				}
				if !dec.Allowed {
					return d.denied(c, dec)
				}
				c.Say("verify.wrong").Error = true
				return "", nil
			}
			if err := d.Regulator.Succeed(ctx, regKeys(c, string(factorEnroll))...); err != nil {
				return "", fmt.Errorf("regulation success: %w", err)
			}
			c.Audit(ctx, audit.Event{Name: "enroll.done", Factor: string(identity.FactorTOTP), Outcome: audit.OutcomeSuccess})
			d.noticeAll(ctx, c, u, "notice.enroll")
			d.report(ctx, c, HandoffDone, "", "")
			return evDone, nil
		},
	}
}

// beginTOTP shows a new authenticator QR code. Replacing an app the account
// already has needs that app among the factors just passed: losing the phone
// with the app is a help-desk case, not something a code by SMS or email may
// undo.
func (d *Deps) beginTOTP(ctx context.Context, c *engine.Ctx, u directory.User) (string, error) {
	on, err := d.TOTP.Enrolled(ctx, userKey(u))
	if err != nil {
		return "", fmt.Errorf("totp enrolled: %w", err)
	}
	if on && !passedGroups(c.Session)[group(identity.FactorTOTP)] {
		c.Say("enroll.replace_needs_app")
		c.Session.Set(varEscReason, "replace_app")
		return engine.EventEscalate, nil
	}
	en, err := d.TOTP.Begin(ctx, userKey(u), u.Login)
	if err != nil {
		return "", fmt.Errorf("begin totp enrollment: %w", err)
	}
	c.Emit(engine.Output{MessageID: "enroll.totp.scan", Sensitive: true,
		Attachment: &engine.Attachment{Kind: "qr", PNG: en.QRPNG, Text: en.Secret}})
	return "", nil
}
