package flows

import (
	"context"
	"errors"
	"fmt"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/secret"
)

// auditChangeDone names the audit record of a change (or its refusal), kept
// apart from reset.done: a user's own change is routine, a reset is not.
const auditChangeDone = "change.done"

// changePreflight reads the account after verification: what blocks a
// reset blocks a change (protected, held), and so does the minimum age. A
// call cannot carry a masked form, so the phone is told to use chat.
func (d *Deps) changePreflight() engine.Step {
	return engine.Step{
		Auto: true,
		Handle: func(ctx context.Context, c *engine.Ctx, _ engine.Input) (string, error) {
			u, ev, err := d.account(ctx, c)
			if ev != "" || err != nil {
				return ev, err
			}
			st, err := d.Directory.Status(ctx, u)
			if err != nil {
				return "", fmt.Errorf("change pre-flight status: %w", err)
			}
			if ev := d.judge(c, st); ev != evOK {
				return ev, nil
			}
			switch {
			case c.Voice:
				c.Say("change.voice_unavailable")
				return evBlocked, nil
			case st.PasswordChangeableAt.After(c.Now):
				c.Say("preflight.too_young", "when", st.PasswordChangeableAt.UTC().Format("Mon 2 Jan 15:04 MST"))
				return evBlocked, nil
			}
			return evOK, nil
		},
	}
}

// changePassword collects the new password in the masked form (typed twice,
// one submission) and sets it. Refusals — local policy, a connected system,
// the directory — are told with their reason and the form is asked again.
func (d *Deps) changePassword() engine.Step {
	return d.passwordStep("change.prompt", d.setOwn)
}

// setOwn writes the user's own new password. It goes through the same
// directory write as a reset, with MustChange false: OpenLDAP then clears
// pwdReset and AD sets pwdLastSet to now, so the person is not asked to
// change it again at next logon and the expiry clock starts afresh.
func (d *Deps) setOwn(ctx context.Context, c *engine.Ctx, u directory.User, pw secret.String) (string, error) {
	err := d.Directory.ResetPassword(ctx, u, pw, directory.ResetOptions{MustChange: false})
	var refused *directory.RefusedError
	switch {
	case errors.As(err, &refused):
		c.Audit(ctx, audit.Event{Name: auditChangeDone, Outcome: audit.OutcomeDenied, Reason: string(refused.Reason)})
		c.Emit(engine.Output{MessageID: "password.rejected." + string(refused.Reason), Error: true})
		return "", nil
	case errors.Is(err, directory.ErrProtected):
		c.Audit(ctx, audit.Event{Name: auditChangeDone, Outcome: audit.OutcomeDenied, Reason: "protected"})
		c.Say("preflight.protected")
		c.Session.Set(varEscReason, "protected")
		return engine.EventEscalate, nil
	case errors.Is(err, directory.ErrHeld):
		return d.held(ctx, c, auditChangeDone, err), nil
	case errors.Is(err, directory.ErrAmbiguous):
		c.Audit(ctx, audit.Event{Name: auditChangeDone, Outcome: audit.OutcomeError, Reason: "ambiguous"})
		c.Say("reset.ambiguous")
		c.Session.Set(varEscReason, "ambiguous")
		return engine.EventEscalate, nil
	case err != nil:
		return "", fmt.Errorf("change password: %w", err)
	}
	c.Audit(ctx, audit.Event{Name: auditChangeDone, Outcome: audit.OutcomeSuccess})
	d.fanOut(ctx, c, u, pw)
	d.markDone(ctx, c, u, actPassword)
	d.notice(ctx, c, u, "notice.change")
	d.report(ctx, c, HandoffDone, "", "")
	return evDone, nil
}
