package flows

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/regulation"
)

// This file is the one place where verification talks to the regulator:
// gate counts an attempt before its answer is looked at, failed and
// succeeded close it, and sendBudget runs before anything is sent. Every step
// that checks an answer (methods, security questions, an enrollment's first
// code) goes through it. Counts are kept per regulated group (regGroup):
// holding one factor buys no guesses at another.

// Regulated groups besides the methods' own independence groups.
const (
	// factorEnroll regulates the confirmation codes of a new authenticator
	// apart from the factors that verify.
	factorEnroll identity.Factor = "enroll"
	// groupQuestions regulates security-question rounds.
	groupQuestions = string(identity.FactorQuestions)
)

// NameAttackNotice is the audit event of a warning to an account's owner
// that wrong answers paused verification for their account.
const NameAttackNotice = "regulation.notice"

// regGroup is the name method m is regulated under: its independence group
// (SMS and calls to one phone are one count).
func regGroup(m identity.Method) string { return string(m.Group()) }

// gate counts the attempt with the regulator before the answer is even
// looked at, so simultaneous attempts can never check more than the limit.
// A refusal ends the conversation: a pause of the account is told as it is
// ("paused until 07:45"), to the owner with a right code and to anyone else
// alike (an unknown login is paused the same way, see regKeys).
func (d *Deps) gate(ctx context.Context, c *engine.Ctx, group string) (string, bool, error) {
	c.EqualizeTo(d.Floor)
	dec, err := d.Regulator.Attempt(ctx, regKeys(c, group)...)
	if err != nil {
		return "", true, fmt.Errorf("regulation: %w", err)
	}
	if !dec.Allowed {
		c.Audit(ctx, audit.Event{Name: audit.NameRegulationDenied, Factor: group, Reason: dec.Reason})
		ev, err := d.denied(c, dec)
		return ev, true, err
	}
	return "", false, nil
}

// failed records a failed attempt on group. stop is true when the regulator
// now refuses further attempts (ev then ends the flow). With delay, the turn
// is padded by the regulator's growing delay. When the failure starts a
// pause of the account, the owner is warned on the channels of record (at
// most once per regulation.Limits.NoticeEvery, so the warning cannot become
// a flood).
func (d *Deps) failed(ctx context.Context, c *engine.Ctx, group string, delay bool) (ev string, stop bool, err error) {
	dec, err := d.Regulator.Fail(ctx, regKeys(c, group)...)
	if err != nil {
		return "", true, fmt.Errorf("regulation failure: %w", err)
	}
	if dec.Started && !phantom(c.Session) {
		if err := d.warnOwner(ctx, c, group, dec); err != nil {
			return "", true, err
		}
	}
	if !dec.Allowed {
		ev, err := d.denied(c, dec)
		return ev, true, err
	}
	if delay {
		c.EqualizeTo(d.Floor + dec.Delay)
	}
	return "", false, nil
}

// warnOwner tells the owner that wrong answers paused their account.
func (d *Deps) warnOwner(ctx context.Context, c *engine.Ctx, group string, dec regulation.Decision) error {
	u, ok, err := d.currentUser(ctx, c.Session)
	if err != nil || !ok {
		return err
	}
	due, err := d.Regulator.Notice(ctx, regulation.Key{Scope: regulation.ScopeUser, ID: userKey(u)})
	if err != nil {
		return fmt.Errorf("regulation notice: %w", err)
	}
	if due {
		c.Audit(ctx, audit.Event{Name: NameAttackNotice, Factor: group, Reason: dec.Reason})
		d.notice(ctx, c, u, "notice.attack")
	}
	return nil
}

// succeeded records a successful attempt on group; only that group's counts
// end.
func (d *Deps) succeeded(ctx context.Context, c *engine.Ctx, group string) error {
	if err := d.Regulator.Succeed(ctx, regKeys(c, group)...); err != nil {
		return fmt.Errorf("regulation success: %w", err)
	}
	return nil
}

// sendBudget runs before method m sends anything. A paused group sends
// nothing: the owner is told the truth at once instead of receiving a code
// that cannot be used. Then the send budgets: without a destination of
// record (or an account) a stand-in destination and key are budgeted the
// same way — one stand-in per group, as SMS and calls to a real mobile share
// that number's budget. ev is set when the flow must stop; ok is false when
// nothing may be sent.
func (d *Deps) sendBudget(ctx context.Context, c *engine.Ctx, m identity.Method, dest, user string) (ev string, ok bool, err error) {
	if dec, err := d.Regulator.Check(ctx, regKeys(c, regGroup(m))...); err != nil {
		return "", false, fmt.Errorf("regulation before send: %w", err)
	} else if !dec.Allowed {
		ev, err := d.denied(c, dec)
		return ev, false, err
	}
	if user == "" {
		user = loadV(c.Session).RegKey
	}
	if dest == "" {
		dest = "none:" + regGroup(m) + ":" + user
	}
	dec, err := d.Regulator.AllowSend(ctx, dest, user)
	if err != nil {
		return "", false, fmt.Errorf("send budget: %w", err)
	}
	if !dec.Allowed {
		d.record(ctx, c, audit.Event{Name: audit.NameRegulationDenied, Factor: string(m.Factor()), Reason: dec.Reason,
			Destination: audit.MaskDestination(dest)})
		c.Say("code.limit").Error = true
		return "", false, nil
	}
	return "", true, nil
}

// denied tells the person to wait and ends the flow with an escalation. A
// pause of the account (or of what was typed) says until when, in plain
// words, so the owner with a right code hears the truth, not "that did not
// work"; a throttle of the person's own identity says how long to wait.
func (d *Deps) denied(c *engine.Ctx, dec regulation.Decision) (string, error) {
	updateV(c.Session, func(v *verification) { v.DenyReason = dec.Reason })
	if dec.Key.Account() && !dec.Until.IsZero() {
		c.Say("regulation.paused", "until", untilText(c.Now, dec.Until))
		return evLockedOut, nil
	}
	mins := int(dec.RetryAfter.Round(time.Minute).Minutes())
	if mins < 1 {
		mins = 1
	}
	c.Say("regulation.denied", "minutes", strconv.Itoa(mins))
	return evLockedOut, nil
}

// untilText is the end of a pause as people read it: the time of day when
// it ends within a day, the date too when later, in UTC (the deployment's
// one clock; the catalog says "UTC").
func untilText(now, until time.Time) string {
	u := until.UTC()
	if u.Sub(now) < 20*time.Hour {
		return u.Format("15:04")
	}
	return u.Format("2006-01-02 15:04")
}
