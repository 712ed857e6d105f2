package flows

import (
	"context"
	"fmt"
	"strings"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/identity"
)

const maxSends = 3

// Choices of the choose state besides the methods: anyone may say they have
// none of them (the help desk takes over), and in agent-assisted verification
// the person may say they are not on a call with the help desk.
const (
	choiceNone  = "none"
	choiceNotMe = "not_me"
)

// offered returns the methods the person may pick now: registered, and not of
// a group already passed. The list never depends on what the account has of
// record, so it reveals nothing about the account.
func (d *Deps) offered(c *engine.Ctx) []identity.Method {
	v := loadV(c.Session)
	var out []identity.Method
	for _, m := range d.Methods.Methods() {
		if !v.passed(m.Group()) {
			out = append(out, m)
		}
	}
	return out
}

// chooseFactor offers the verification methods. On entry it challenges a
// default method at once instead (steps_fast.go); the menu is shown only
// when there is none to pick, or after "another method" ran out of sends.
func (d *Deps) chooseFactor() engine.Step {
	return engine.Step{
		Auto: true,
		Prompt: func(_ context.Context, c *engine.Ctx) {
			v := loadV(c.Session)
			id := "factor.choose"
			if len(v.Passed) > 0 {
				id = "factor.another"
			}
			if c.Session.Flow == FlowVerify && len(v.Passed) == 0 {
				c.Say("assist.intro")
			}
			// Each choice keeps its number from one menu to the next (its
			// place among all the methods), so a keypad caller who heard
			// "4 for email" can still press 4 after the text message.
			all := d.Methods.Methods()
			key := make(map[identity.Factor]int, len(all))
			for i, m := range all {
				key[m.Factor()] = i + 1
			}
			choices := []engine.Choice{}
			for _, m := range d.offered(c) {
				choices = append(choices, engine.Choice{ID: string(m.Factor()), MessageID: "factor." + string(m.Factor()), Key: key[m.Factor()]})
			}
			if !c.Voice {
				// On the phone, 0 already reaches the help desk at every step.
				choices = append(choices, engine.Choice{ID: choiceNone, MessageID: "factor.none", Key: len(all) + 1})
			}
			if c.Session.Flow == FlowVerify {
				choices = append(choices, engine.Choice{ID: choiceNotMe, MessageID: "assist.not_me", Key: len(all) + 2})
			}
			if v.ViaHint && len(v.Passed) == 0 && !c.Voice {
				choices = append(choices, engine.Choice{ID: choiceOther, MessageID: "identify.other", Key: len(all) + 3})
			}
			c.Say(id).Expect = engine.Expect{Kind: engine.ExpectChoice, Choices: choices}
		},
		Handle: func(ctx context.Context, c *engine.Ctx, in engine.Input) (string, error) {
			if in.Kind == 0 {
				return d.autoChallenge(ctx, c)
			}
			if in.Kind == engine.InputChoice {
				switch {
				case in.Choice == choiceOther && loadV(c.Session).ViaHint:
					return d.otherAccount(ctx, c), nil
				case in.Choice == choiceNone && !c.Voice:
					return d.noFactor(ctx, c)
				case in.Choice == choiceNotMe && c.Session.Flow == FlowVerify:
					return d.notMe(ctx, c)
				}
			}
			m, ok := d.pick(c, in)
			if !ok {
				c.Say(engine.MsgBadChoice).Error = true
				return "", nil
			}
			return d.challenge(ctx, c, m)
		},
	}
}

// noFactor sends a person without any offered method to the help desk, with
// the context packet. Everyone may choose it, so it tells nothing.
func (d *Deps) noFactor(_ context.Context, c *engine.Ctx) (string, error) {
	c.Say("factor.none_escalate")
	c.Session.Set(varEscReason, "no_factor")
	return engine.EventEscalate, nil
}

func (d *Deps) pick(c *engine.Ctx, in engine.Input) (identity.Method, bool) {
	if in.Kind != engine.InputChoice {
		return nil, false
	}
	for _, m := range d.offered(c) {
		if string(m.Factor()) == in.Choice {
			return m, true
		}
	}
	return nil, false
}

// challengeKey binds a challenge to this session, this user and this factor:
// a code from another conversation never matches, and a code sent by SMS
// cannot pass the email factor.
func challengeKey(s *engine.Session, f identity.Factor) string {
	return s.ID + "|" + s.Get(varUser) + "|" + string(f)
}

// subject returns the identified account as the methods see it (zero for
// nobody or an account that left the directory).
func (d *Deps) subject(ctx context.Context, s *engine.Session) (identity.Subject, error) {
	u, ok, err := d.currentUser(ctx, s)
	if err != nil || !ok {
		return identity.Subject{}, err
	}
	return identity.Subject{Key: userKey(u), Login: u.Login, Mobile: u.Mobile, RecoveryEmail: u.RecoveryEmail}, nil
}

// challenge starts method m: for a method that sends something, within the
// send budgets and to the destination of record only — never one typed in
// the conversation. Without a destination (or an account) the method still
// issues its challenge under a stand-in destination and sends nothing, so
// expiry, attempts, resends and budgets behave exactly as for a real one.
func (d *Deps) challenge(ctx context.Context, c *engine.Ctx, m identity.Method) (string, error) {
	c.EqualizeTo(d.Floor)
	s := c.Session
	v := loadV(s)
	dm, destined := m.(identity.Destined)
	if destined && v.Sends >= maxSends {
		c.Say("code.limit").Error = true
		return "", nil
	}
	if destined {
		v.Sends++
	}
	v.Factor, v.To = m.Factor(), ""
	saveV(s, v)
	sub, err := d.subject(ctx, s)
	if err != nil {
		return "", err
	}
	// Attempt lets a method that sends keep the code its first try sent
	// when the platform retries this delivery (a commit cut by a failover).
	ch := identity.Challenge{Key: challengeKey(s, m.Factor()), Subject: sub, Locale: s.Locale, Voice: c.Voice,
		Attempt: c.Turn.DeliveryID}
	if destined {
		dest := dm.Destination(sub)
		if dest != "" && len(v.Passed) > 0 {
			// After a first factor the person may learn where the code
			// went: it is their account.
			updateV(s, func(v *verification) { v.To = audit.MaskDestination(dest) })
		}
		// A delivery retried after its commit was lost already spent
		// the budget for the code it sent (which IssueAttempt keeps):
		// spending it again could refuse the person the code they hold.
		sent, err := d.recorded(ctx, d.sendKey(c, string(m.Factor())), "send")
		if err != nil {
			return "", err
		}
		if !sent {
			ev, ok, err := d.sendBudget(ctx, c, m, dest, sub.Key)
			if err != nil || !ok {
				return ev, err
			}
		}
		if dest != "" {
			ch.Courier = courier{d: d, c: c}
		}
	}
	p, err := m.Challenge(ctx, ch)
	if err != nil {
		return "", fmt.Errorf("challenge %s: %w", m.Factor(), err)
	}
	if destined {
		d.record1(ctx, c, d.sendKey(c, string(m.Factor())), "send")
	}
	updateV(s, func(v *verification) { v.Prompt = p })
	return evChallenge, nil
}

// verifyFactor asks for the answer to the challenge of the method picked.
func (d *Deps) verifyFactor() engine.Step {
	return engine.Step{
		Prompt: func(_ context.Context, c *engine.Ctx) {
			p := loadV(c.Session).Prompt
			id := p.MessageID
			if c.Again && strings.HasPrefix(id, "code.prompt.") {
				// After a wrong code: no "a code is on its way" again, which
				// sounds like a new one was sent.
				id = "code.prompt.again"
			}
			var o *engine.Output
			if to := loadV(c.Session).To; to != "" && !c.Again && strings.HasPrefix(id, "code.prompt.") {
				// The code went to the person's own destination: say
				// where, instead of "if a number is on file".
				o = c.Say("code.sent_to", "to", to)
			} else {
				o = c.Say(id)
			}
			o.Sensitive = true
			o.Expect = engine.Expect{Kind: engine.ExpectText}
			if p.Digits > 0 {
				o.Expect = engine.Expect{Kind: engine.ExpectDigits, MinDigits: p.Digits, MaxDigits: p.Digits}
			}
			if fastChoose(c) {
				o.Expect.Choices = d.sideChoices(c)
			}
		},
		Handle: func(ctx context.Context, c *engine.Ctx, in engine.Input) (string, error) {
			if in.Kind == engine.InputChoice && in.Choice == "resend" {
				return evRetry, nil
			}
			if ev, ok, err := d.sideChoice(ctx, c, in); ok || err != nil {
				return ev, err
			}
			if in.Kind == engine.InputChoice || miskeyed(loadV(c.Session).Prompt, in) {
				// Not an answer (a key meant for a menu, a stray button):
				// asked again, and no attempt is spent.
				c.Say(engine.MsgBadChoice).Error = true
				return "", nil
			}
			v := loadV(c.Session)
			m, ok := d.Methods.Get(v.Factor)
			if !ok {
				return evRetry, nil
			}
			if ev, stop, err := d.gate(ctx, c, regGroup(m)); stop {
				return ev, err
			}
			sub, err := d.subject(ctx, c.Session)
			if err != nil {
				return "", err
			}
			if phantom(c.Session) {
				sub = identity.Subject{}
			}
			ch := identity.Challenge{Key: challengeKey(c.Session, m.Factor()), Subject: sub, Locale: c.Session.Locale, Voice: c.Voice,
				Attempt: c.Turn.DeliveryID}
			res, err := m.Verify(ctx, ch, in.Value)
			if err != nil {
				return "", fmt.Errorf("verify %s: %w", m.Factor(), err)
			}
			return d.verdict(ctx, c, m, res)
		},
	}
}

// miskeyed reports a keypad entry too short to be the numeric answer
// asked for ("1", pressed out of habit for the authenticator): the same for
// every account, so refusing it without an attempt tells nothing.
func miskeyed(p identity.Prompt, in engine.Input) bool {
	if p.Digits == 0 || in.Kind != engine.InputDigits {
		return false
	}
	return len(strings.TrimSpace(in.Value.Reveal())) < p.Digits
}

// verdict turns a verification result into the flow's next event.
func (d *Deps) verdict(ctx context.Context, c *engine.Ctx, m identity.Method, res identity.Result) (string, error) {
	s := c.Session
	f := m.Factor()
	updateV(s, func(v *verification) { v.attempt(string(f), res.String()) })
	outcome := audit.OutcomeFailure
	if res == identity.Verified {
		outcome = audit.OutcomeSuccess
	}
	d.record(ctx, c, audit.Event{Name: audit.NameVerifyAttempt, Factor: string(f), Outcome: outcome, Reason: res.String()})
	switch res {
	case identity.Verified:
		// Only this group's counts end: holding one factor buys no guesses
		// at another.
		if err := d.succeeded(ctx, c, regGroup(m)); err != nil {
			return "", err
		}
		updateV(s, func(v *verification) { v.pass(m) })
		return d.afterVerified(ctx, c, m)
	case identity.Expired:
		c.Say("code.expired").Error = true
		return evRetry, nil
	case identity.Exhausted:
		// The attempt that burned the code is a failure like any other.
		if ev, stop, err := d.failed(ctx, c, regGroup(m), false); stop {
			return ev, err
		}
		c.Say("code.expired").Error = true
		return evRetry, nil
	case identity.Replayed:
		// A right code used twice may be a stolen one: the owner is told on
		// the channels of record.
		d.record(ctx, c, audit.Event{Name: "totp.replay", Factor: string(f), Outcome: audit.OutcomeDenied})
		if u, ok, err := d.currentUser(ctx, s); err == nil && ok {
			d.notice(ctx, c, u, "notice.totp_replay")
		}
	}
	if ev, stop, err := d.failed(ctx, c, regGroup(m), true); stop {
		return ev, err
	}
	if res == identity.Replayed {
		// Most often the owner typing the code they just used (to enroll,
		// or twice): say what to do. It tells nothing new to anyone else:
		// only the right code for this account is a replay.
		c.Say("totp.replayed").Error = true
		return "", nil
	}
	c.Say("verify.wrong").Error = true
	return "", nil
}

// verified records a completed verification, makes this the account's
// active conversation and reports it to the handoff.
func (d *Deps) verified(ctx context.Context, c *engine.Ctx) (string, error) {
	s := c.Session
	if err := d.claim(ctx, c); err != nil {
		return "", err
	}
	v := loadV(s)
	v.VerifiedAt = c.Now.Unix()
	saveV(s, v)
	// Only now may the conversation switch to the account's own language:
	// before verification it would tell whether the account exists.
	c.PreferLocale(v.Lang)
	if s.Flow != FlowVerify {
		// Agent-assisted verification reports "verified" only after the
		// read-back (steps_assist.go).
		d.report(ctx, c, HandoffVerified, string(v.Factor), "")
	}
	return evVerified, nil
}

// record writes a flow audit event with the turn's context.
func (d *Deps) record(ctx context.Context, c *engine.Ctx, ev audit.Event) {
	c.Audit(ctx, ev)
}
