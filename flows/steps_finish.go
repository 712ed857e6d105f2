package flows

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/core/secret"
)

const (
	varEscReason = "er" // why the flow escalates
	// Freshness is how long a completed verification may be used for the
	// change that follows it.
	Freshness = 10 * time.Minute
)

// preflight reads the account's status after verification and tells the
// person, in plain words, what stands in the way and what to do instead.
func (d *Deps) preflight() engine.Step {
	return engine.Step{
		Auto: true,
		Handle: func(ctx context.Context, c *engine.Ctx, _ engine.Input) (string, error) {
			u, ev, err := d.account(ctx, c)
			if ev != "" || err != nil {
				return ev, err
			}
			if act, next := autoAction(c); act != "" {
				// The step that follows in this same turn already acted for
				// this delivery (its commit was lost): the account now looks
				// unlocked or freshly reset, which must not be judged as a
				// reason to stop. That step gives the outcome again.
				if done, err := d.alreadyDone(ctx, c, u, act); done || err != nil {
					return next, err
				}
			}
			st, err := d.Directory.Status(ctx, u)
			if err != nil {
				return "", fmt.Errorf("pre-flight status: %w", err)
			}
			return d.judge(c, st), nil
		},
	}
}

// autoAction is the action of the step that runs right after the
// pre-flight in the same turn (the unlock, or the phone's passphrase
// reset) and the event that leads to it.
func autoAction(c *engine.Ctx) (string, string) {
	switch {
	case c.Session.Flow == FlowUnlock:
		return actUnlock, evOK
	case c.Session.Flow == FlowReset && c.Voice:
		return actPassphrase, evKeypad
	}
	return "", ""
}

func (d *Deps) judge(c *engine.Ctx, st directory.Status) string {
	s := c.Session
	switch {
	case st.Protected:
		c.Say("preflight.protected")
		s.Set(varEscReason, "protected")
		return engine.EventEscalate
	}
	// Disabled, expired or locked by an administrator: an administrator's
	// decision that self-service must not undo ("preflight.disabled",
	// "preflight.expired", "preflight.admin_locked"); the user is sent to
	// the help desk with the reference.
	if h := st.Hold(); h != directory.HoldNone {
		c.Say("preflight." + string(h))
		return evBlocked
	}
	switch s.Flow {
	case FlowReset:
		if st.PasswordChangeableAt.After(c.Now) {
			c.Say("preflight.too_young", "when", st.PasswordChangeableAt.UTC().Format("Mon 2 Jan 15:04 MST"))
			return evBlocked
		}
		if c.Voice {
			if d.Policy.VoiceReset == VoiceUnlockOnly {
				c.Say("reset.voice_unavailable")
				return evBlocked
			}
			return evKeypad
		}
	case FlowUnlock:
		if !st.Locked {
			c.Say("unlock.not_locked")
			return evBlocked
		}
	}
	return evOK
}

// fresh reports whether verification happened recently enough to act on.
func fresh(c *engine.Ctx) bool {
	v := loadV(c.Session)
	return v.VerifiedAt != 0 && c.Now.Sub(v.verifiedAt()) <= Freshness
}

// stale forgets a verification too old to act on.
func stale(c *engine.Ctx) {
	c.Say("verify.stale")
	updateV(c.Session, func(v *verification) { v.restart() })
}

// newPassword collects the new password in a masked field, typed twice, and
// resets it; a done reset is noticed and reported.
func (d *Deps) newPassword() engine.Step {
	return d.passwordStep("password.prompt", func(ctx context.Context, c *engine.Ctx, u directory.User, pw secret.String) (string, error) {
		ev, err := d.reset(ctx, c, u, pw, false)
		if ev == evDone {
			d.markDone(ctx, c, u, actPassword)
			d.notice(ctx, c, u, "notice.reset")
			d.report(ctx, c, HandoffDone, "", "")
		}
		return ev, err
	})
}

// passwordStep is the step the reset and change flows share to take a new
// password: it asks with prompt (the masked form, typed twice, one
// submission), refuses a password typed into the chat, a stale
// verification, a mismatch, and a password local policy or a connected
// system refuses — each told with its reason, the form asked again — and
// hands an acceptable one to set, whose event it returns.
func (d *Deps) passwordStep(prompt string, set func(context.Context, *engine.Ctx, directory.User, secret.String) (string, error)) engine.Step {
	return engine.Step{
		Prompt: func(_ context.Context, c *engine.Ctx) {
			id := prompt
			if c.Again {
				// After a refusal the reason was just said; "you are
				// verified" again would be noise.
				id = "password.prompt.again"
			}
			o := c.Say(id, "min", strconv.Itoa(d.Passwords.MinLength()))
			o.Sensitive = true
			o.Expect = engine.Expect{Kind: engine.ExpectSecret, Confirm: true, FieldID: "password.field"}
		},
		Handle: func(ctx context.Context, c *engine.Ctx, in engine.Input) (string, error) {
			if in.Kind != engine.InputSecret {
				// A password typed into the chat is in the history now: never use it.
				c.Say("password.use_form").Error = true
				c.Audit(ctx, audit.Event{Name: "password.plaintext_refused", Outcome: audit.OutcomeDenied})
				return "", nil
			}
			if !fresh(c) {
				stale(c)
				return evRetry, nil
			}
			if !in.Value.Equal(in.Confirm) {
				c.Say("password.mismatch").Error = true
				return "", nil
			}
			u, ev, err := d.account(ctx, c)
			if ev != "" || err != nil {
				return ev, err
			}
			if done, err := d.alreadyDone(ctx, c, u, actPassword); done || err != nil {
				// This delivery set the password before its commit was
				// lost: the same outcome, without writing or noticing again.
				return evDone, err
			}
			ref, err := d.Passwords.Check(ctx, in.Value, u)
			if err != nil {
				return "", fmt.Errorf("password policy: %w", err)
			}
			if ref != nil {
				c.Emit(engine.Output{MessageID: ref.MessageID(), Args: ref.Args, Error: true})
				c.Audit(ctx, audit.Event{Name: "password.refused", Reason: ref.Reason})
				return "", nil
			}
			if no, err := d.refusedByTarget(ctx, c, u, in.Value, true); no || err != nil {
				return "", err
			}
			return set(ctx, c, u, in.Value)
		},
	}
}

// reset writes the password and, when the account was locked, unlocks it.
func (d *Deps) reset(ctx context.Context, c *engine.Ctx, u directory.User, pw secret.String, mustChange bool) (string, error) {
	err := d.Directory.ResetPassword(ctx, u, pw, directory.ResetOptions{MustChange: mustChange})
	var refused *directory.RefusedError
	switch {
	case errors.As(err, &refused):
		c.Audit(ctx, audit.Event{Name: audit.NameResetDone, Outcome: audit.OutcomeDenied, Reason: string(refused.Reason)})
		c.Emit(engine.Output{MessageID: "password.rejected." + string(refused.Reason), Error: true})
		return "", nil
	case errors.Is(err, directory.ErrProtected):
		c.Audit(ctx, audit.Event{Name: audit.NameResetDone, Outcome: audit.OutcomeDenied, Reason: "protected"})
		c.Say("preflight.protected")
		c.Session.Set(varEscReason, "protected")
		return engine.EventEscalate, nil
	case errors.Is(err, directory.ErrHeld):
		return d.held(ctx, c, audit.NameResetDone, err), nil
	case errors.Is(err, directory.ErrAmbiguous):
		c.Audit(ctx, audit.Event{Name: audit.NameResetDone, Outcome: audit.OutcomeError, Reason: "ambiguous"})
		c.Say("reset.ambiguous")
		c.Session.Set(varEscReason, "ambiguous")
		return engine.EventEscalate, nil
	case err != nil:
		return "", fmt.Errorf("reset password: %w", err)
	}
	c.Audit(ctx, audit.Event{Name: audit.NameResetDone, Outcome: audit.OutcomeSuccess})
	d.fanOut(ctx, c, u, pw)
	d.unlockAfterReset(ctx, c, u)
	return evDone, nil
}

// unlockAfterReset lifts a lockout that is still there after a reset. The
// status is read again, not taken from the pre-flight (which may be ten
// minutes old, and the directory may have cleared or set a lock since), and
// the unlock counts toward the daily unlock cap like any other: a reset is
// not a way around it. A held account is never unlocked. Failures are
// logged; the new password stands.
func (d *Deps) unlockAfterReset(ctx context.Context, c *engine.Ctx, u directory.User) {
	st, err := d.Directory.Status(ctx, u)
	if err != nil {
		d.Log.Warn("status after reset failed; not unlocking", "ref", c.Ref, "err", err)
		return
	}
	if !st.Locked || st.Hold() != directory.HoldNone {
		return
	}
	over, err := d.overUnlockCap(ctx, u)
	if err != nil {
		d.Log.Warn("unlock after reset not done", "ref", c.Ref, "err", err)
		return
	}
	if over {
		c.Audit(ctx, audit.Event{Name: audit.NameUnlockDone, Outcome: audit.OutcomeDenied, Reason: "unlock_cap"})
		c.Say("reset.still_locked", "ref", c.Ref)
		return
	}
	if err := d.Directory.Unlock(ctx, u); err != nil {
		d.Log.Warn("unlock after reset failed", "ref", c.Ref, "err", err)
		return
	}
	c.Audit(ctx, audit.Event{Name: audit.NameUnlockDone, Outcome: audit.OutcomeSuccess})
}

// held tells the user that an administrator disabled, let expire or locked
// the account since the pre-flight, and hands the case to the help desk.
func (d *Deps) held(ctx context.Context, c *engine.Ctx, event string, err error) string {
	hold := directory.HoldAdminLocked
	if he := (*directory.HeldError)(nil); errors.As(err, &he) {
		hold = he.Hold
	}
	c.Audit(ctx, audit.Event{Name: event, Outcome: audit.OutcomeDenied, Reason: "held:" + string(hold)})
	c.Say("preflight." + string(hold))
	c.Session.Set(varEscReason, "held:"+string(hold))
	return engine.EventEscalate
}

// passphrase resets without a typed password (the phone): a generated
// passphrase, must-change, goes by SMS to the verified number of record.
func (d *Deps) passphrase() engine.Step {
	return engine.Step{
		Auto: true,
		Handle: func(ctx context.Context, c *engine.Ctx, _ engine.Input) (string, error) {
			u, ok, err := d.currentUser(ctx, c.Session)
			if err != nil {
				return "", err
			}
			if !ok || u.Mobile == "" || d.Generate == nil {
				c.Say("reset.no_mobile")
				c.Session.Set(varEscReason, "no_mobile")
				return engine.EventEscalate, nil
			}
			if done, err := d.alreadyDone(ctx, c, u, actPassphrase); done || err != nil {
				// This delivery set and sent a passphrase before its commit
				// was lost: that one stands, no second reset or SMS.
				if done {
					c.Say("reset.passphrase_sent")
				}
				return evDone, err
			}
			pw, err := d.Generate(ctx, d.Rand, u)
			if err != nil {
				return "", fmt.Errorf("generate passphrase: %w", err)
			}
			if no, err := d.refusedByTarget(ctx, c, u, pw, false); err != nil || no {
				c.Session.Set(varEscReason, "passphrase_refused_by_target")
				return escalateUnless(err)
			}
			ev, err := d.reset(ctx, c, u, pw, true)
			if err != nil || ev != evDone {
				if err == nil && ev == "" {
					c.Session.Set(varEscReason, "passphrase_refused")
					ev = engine.EventEscalate
				}
				return ev, err
			}
			m := d.message(c, notify.ChannelSMS, u.Mobile, "sms.passphrase", map[string]string{"passphrase": pw.Reveal()})
			m.Kind = notify.KindPassphrase
			if err := d.send(ctx, notify.ChannelSMS, m); err != nil {
				d.Log.Error("passphrase not sent after reset", "ref", c.Ref, "err", err)
				c.Session.Set(varEscReason, "send_failed")
				return engine.EventEscalate, nil
			}
			c.Audit(ctx, audit.Event{Name: audit.NameCodeSent, Factor: "passphrase", Destination: audit.MaskPhone(u.Mobile)})
			d.markDone(ctx, c, u, actPassphrase)
			d.notice(ctx, c, u, "notice.reset")
			d.report(ctx, c, HandoffDone, "", "")
			c.Say("reset.passphrase_sent")
			return evDone, nil
		},
	}
}

// unlock clears the lockout.
func (d *Deps) unlock() engine.Step {
	return engine.Step{
		Auto: true,
		Handle: func(ctx context.Context, c *engine.Ctx, _ engine.Input) (string, error) {
			if !fresh(c) {
				stale(c)
				return evRetry, nil
			}
			u, ev, err := d.account(ctx, c)
			if ev != "" || err != nil {
				return ev, err
			}
			if done, err := d.alreadyDone(ctx, c, u, actUnlock); done || err != nil {
				// This delivery unlocked before its commit was lost.
				return evDone, err
			}
			if over, err := d.overUnlockCap(ctx, u); err != nil || over {
				if over {
					c.Say("unlock.limit")
					c.Session.Set(varEscReason, "unlock_cap")
					return engine.EventEscalate, nil
				}
				return "", err
			}
			err = d.Directory.Unlock(ctx, u)
			switch {
			case errors.Is(err, directory.ErrProtected):
				c.Say("preflight.protected")
				c.Session.Set(varEscReason, "protected")
				return engine.EventEscalate, nil
			case errors.Is(err, directory.ErrHeld):
				return d.held(ctx, c, audit.NameUnlockDone, err), nil
			case err != nil:
				return "", fmt.Errorf("unlock: %w", err)
			}
			c.Audit(ctx, audit.Event{Name: audit.NameUnlockDone, Outcome: audit.OutcomeSuccess})
			d.markDone(ctx, c, u, actUnlock)
			d.notice(ctx, c, u, "notice.unlock")
			d.report(ctx, c, HandoffDone, "", "")
			return evDone, nil
		},
	}
}

// overUnlockCap counts this unlock and reports whether it is one too many
// within 24 hours.
func (d *Deps) overUnlockCap(ctx context.Context, u directory.User) (bool, error) {
	if d.Counters == nil {
		return false, nil
	}
	limit := d.Policy.MaxUnlocksPerDay
	if limit <= 0 {
		limit = 3
	}
	// The counter's name is keyed (HMAC): no DN in the store.
	n, err := d.Counters.Incr(ctx, d.Regulator.KeyName("unlocks", userKey(u)), 1, 24*time.Hour)
	if err != nil {
		return false, fmt.Errorf("unlock cap: %w", err)
	}
	return n > int64(limit), nil
}

// final is a state that ends the conversation with a goodbye message.
func final(id string, withRef bool) engine.Step {
	return engine.Step{Final: true, Prompt: func(_ context.Context, c *engine.Ctx) {
		if withRef {
			c.Say(id, "ref", c.Ref)
			return
		}
		c.Say(id)
	}}
}

// ended cancels any live code when a conversation ends without success.
func (d *Deps) ended(id, reason string) engine.Step {
	st := final(id, true)
	st.Auto = true
	st.Handle = func(ctx context.Context, c *engine.Ctx, _ engine.Input) (string, error) {
		d.cancelCodes(ctx, c)
		d.report(ctx, c, HandoffFailed, "", reason)
		return "", nil
	}
	return st
}

// cancelCodes voids the session's live codes when a conversation ends
// without success.
func (d *Deps) cancelCodes(ctx context.Context, c *engine.Ctx) {
	if c.Session.Get(varUser) == "" {
		return
	}
	for _, m := range d.Methods.Methods() {
		cm, ok := m.(identity.Canceler)
		if !ok {
			continue
		}
		if err := cm.Cancel(ctx, identity.Challenge{Key: challengeKey(c.Session, m.Factor())}); err != nil {
			d.Log.Warn("challenge not cancelled", "ref", c.Ref, "factor", string(m.Factor()), "err", err)
		}
	}
}

// escalated hands the case to people with a context packet (no secrets).
func (d *Deps) escalated(reason string) engine.Step {
	id := "escalate.done"
	if reason == "lockout" {
		// The person was just told how long to wait: the help desk is for
		// sooner, not "someone will contact you".
		id = "escalate.lockout"
	}
	st := final(id, true)
	st.Auto = true
	st.Handle = func(ctx context.Context, c *engine.Ctx, _ engine.Input) (string, error) {
		s := c.Session
		r := s.Get(varEscReason)
		if r == "" {
			r = reason
		}
		v := loadV(s)
		if v.DenyReason != "" && reason == "lockout" {
			r = "lockout:" + v.DenyReason
		}
		p := Escalation{Ref: c.Ref, Reason: r, Channel: s.Channel, User: s.Get(varUser), Login: v.Login,
			Flow: s.Flow, State: s.State, Time: c.Now.UTC(), Messages: s.Trail(), Factors: v.Trail,
			Alert: alertReasons[r]}
		for _, o := range c.Outputs() {
			p.Messages = append(p.Messages, o.MessageID)
		}
		p.OfRecord = d.ofRecord(ctx, c)
		c.Audit(ctx, audit.Event{Name: audit.NameEscalation, Reason: r})
		status := HandoffEscalated
		if p.Alert {
			status = HandoffFailed
		}
		d.report(ctx, c, status, "", r)
		if d.Escalator != nil {
			if err := d.Escalator.Escalate(ctx, p); err != nil {
				d.Log.Error("escalation not delivered", "ref", c.Ref, "err", err)
			}
		}
		d.cancelCodes(ctx, c)
		return "", nil
	}
	return st
}
