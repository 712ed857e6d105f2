package flows

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/core/regulation"
	"github.com/resetbot/resetbot/core/secret"
)

const (
	varSends = "sc" // codes requested in this session
	maxSends = 3
)

// offered returns the factors the user may pick now: enabled, usable on this
// channel, and not of a group already passed. The list never depends on what
// the user has enrolled, so it reveals nothing about the account.
func (d *Deps) offered(c *engine.Ctx) []identity.Factor {
	passed := passedGroups(c.Session)
	var out []identity.Factor
	for _, f := range d.Policy.Enabled {
		if f == identity.FactorQuestions || passed[group(f)] {
			continue
		}
		if f == identity.FactorTOTP && d.TOTP == nil {
			continue
		}
		out = append(out, f)
	}
	return out
}

// chooseFactor offers the verification methods.
func (d *Deps) chooseFactor() engine.Step {
	return engine.Step{
		Prompt: func(_ context.Context, c *engine.Ctx) {
			id := "factor.choose"
			if c.Session.Get(varPassed) != "" {
				id = "factor.another"
			}
			choices := []engine.Choice{}
			for _, f := range d.offered(c) {
				choices = append(choices, engine.Choice{ID: string(f), MessageID: "factor." + string(f)})
			}
			c.Say(id).Expect = engine.Expect{Kind: engine.ExpectChoice, Choices: choices}
		},
		Handle: func(ctx context.Context, c *engine.Ctx, in engine.Input) (string, error) {
			f, ok := d.pick(c, in)
			if !ok {
				c.Say(engine.MsgBadChoice).Error = true
				return "", nil
			}
			c.Session.Set(varFactor, string(f))
			if f == identity.FactorTOTP {
				return evTOTP, nil
			}
			return d.sendCode(ctx, c, f)
		},
	}
}

func (d *Deps) pick(c *engine.Ctx, in engine.Input) (identity.Factor, bool) {
	if in.Kind != engine.InputChoice {
		return "", false
	}
	for _, f := range d.offered(c) {
		if string(f) == in.Choice {
			return f, true
		}
	}
	return "", false
}

// challengeKey binds a one-time code to this session, this user and this
// factor: a code from another conversation never matches, and a code sent by
// SMS cannot pass the email factor.
func challengeKey(s *engine.Session, f identity.Factor) string {
	return s.ID + "|" + s.Get(varUser) + "|" + string(f)
}

// codeFactors are the factors verified with a sent code.
var codeFactors = []identity.Factor{identity.FactorSMS, identity.FactorVoice, identity.FactorEmail}

// sendCode issues and sends a one-time code to the destination of record —
// never to one typed in the conversation. When there is no such destination,
// or nobody was identified, nothing is sent and the reply is the same.
func (d *Deps) sendCode(ctx context.Context, c *engine.Ctx, f identity.Factor) (string, error) {
	c.EqualizeTo(d.Floor)
	s := c.Session
	if s.Int(varSends) >= maxSends {
		c.Say("code.limit").Error = true
		return "", nil
	}
	s.SetInt(varSends, s.Int(varSends)+1)
	u, ok, err := d.currentUser(ctx, s)
	if err != nil {
		return "", err
	}
	dest := u.Mobile
	if f == identity.FactorEmail {
		dest = u.Email
	}
	// Without a destination of record (or an account) a real challenge is
	// still issued and budgeted, under a stand-in destination, and never
	// sent: expiry, attempts, resends and budgets then behave exactly as
	// for a real code, so nothing tells the cases apart.
	send, budgetDest, budgetUser := ok && dest != "", dest, userKey(u)
	if !send {
		budgetUser = s.Get(varRegKey)
		if ok {
			budgetUser = userKey(u)
		}
		budgetDest = "none:" + string(f) + ":" + budgetUser
		dest = budgetDest
	}
	dec, err := d.Regulator.AllowSend(ctx, budgetDest, budgetUser)
	if err != nil {
		return "", fmt.Errorf("send budget: %w", err)
	}
	if !dec.Allowed {
		d.record(ctx, c, audit.Event{Name: audit.NameRegulationDenied, Factor: string(f), Reason: dec.Reason,
			Destination: mask(f, dest)})
		c.Say("code.limit").Error = true
		return "", nil
	}
	iss, err := d.Codes.Issue(ctx, challengeKey(s, f), f, dest)
	if err != nil {
		return "", fmt.Errorf("issue code: %w", err)
	}
	if iss.Wait > 0 || !send {
		// A resend within the cooldown keeps the code sent moments ago.
		return evCode, nil
	}
	args := map[string]string{"code": iss.Code.Reveal(), "minutes": strconv.Itoa(int(time.Until(iss.ExpiresAt).Round(time.Minute).Minutes()))}
	m := d.message(c, f, dest, "otp."+string(f), args)
	m.Kind = notify.KindCode
	if err := d.send(ctx, f, m); err != nil {
		d.record(ctx, c, audit.Event{Name: audit.NameSendFailed, Factor: string(f), Destination: mask(f, dest), Outcome: audit.OutcomeError})
		return "", fmt.Errorf("send code: %w", err)
	}
	d.record(ctx, c, audit.Event{Name: audit.NameCodeSent, Factor: string(f), Destination: mask(f, dest)})
	return evCode, nil
}

// verifyTOTP asks for the authenticator app's code.
func (d *Deps) verifyTOTP() engine.Step {
	return engine.Step{
		Prompt: func(_ context.Context, c *engine.Ctx) {
			o := c.Say("totp.prompt")
			o.Sensitive = true
			o.Expect = engine.Expect{Kind: engine.ExpectDigits, MinDigits: 6, MaxDigits: 6}
		},
		Handle: func(ctx context.Context, c *engine.Ctx, in engine.Input) (string, error) {
			if ev, stop, err := d.gate(ctx, c); stop {
				return ev, err
			}
			res := identity.Wrong
			if !phantom(c.Session) && d.TOTP != nil {
				var err error
				res, err = d.TOTP.Verify(ctx, c.Session.Get(varUser), in.Value)
				switch {
				case errors.Is(err, identity.ErrNotEnrolled):
					// Not enrolled answers exactly like a wrong code.
					res = identity.Wrong
				case err != nil:
					return "", fmt.Errorf("verify totp: %w", err)
				}
			}
			return d.verdict(ctx, c, identity.FactorTOTP, res)
		},
	}
}

// verifyCode asks for the code that was sent.
func (d *Deps) verifyCode() engine.Step {
	return engine.Step{
		Prompt: func(_ context.Context, c *engine.Ctx) {
			o := c.Say("code.prompt." + c.Session.Get(varFactor))
			o.Sensitive = true
			o.Expect = engine.Expect{Kind: engine.ExpectDigits, MinDigits: d.CodeDigits, MaxDigits: d.CodeDigits}
		},
		Handle: func(ctx context.Context, c *engine.Ctx, in engine.Input) (string, error) {
			if in.Kind == engine.InputChoice && in.Choice == "resend" {
				return evRetry, nil
			}
			if ev, stop, err := d.gate(ctx, c); stop {
				return ev, err
			}
			s := c.Session
			f := identity.Factor(s.Get(varFactor))
			res, err := d.Codes.Check(ctx, challengeKey(s, f), in.Value)
			if err != nil {
				return "", fmt.Errorf("check code: %w", err)
			}
			return d.verdict(ctx, c, f, res)
		},
	}
}

// gate applies the regulator before an attempt is even looked at.
func (d *Deps) gate(ctx context.Context, c *engine.Ctx) (string, bool, error) {
	c.EqualizeTo(d.Floor)
	dec, err := d.Regulator.Check(ctx, regKeys(c)...)
	if err != nil {
		return "", true, fmt.Errorf("regulation: %w", err)
	}
	if !dec.Allowed && dec.Key.Scope == regulation.ScopeUser {
		// An account ban is not told before verification: every alias of a
		// real account shares it, so telling would link them and confirm the
		// account. The attempt is refused like a wrong answer and counts
		// against this conversation's channel identity.
		c.Audit(ctx, audit.Event{Name: audit.NameRegulationDenied, Reason: dec.Reason})
		chDec, err := d.Regulator.Fail(ctx, identityKeys(c)...)
		if err != nil {
			return "", true, fmt.Errorf("regulation failure: %w", err)
		}
		if !chDec.Allowed {
			ev, err := d.denied(c, chDec)
			return ev, true, err
		}
		c.Say("verify.wrong").Error = true
		return "", true, nil
	}
	if !dec.Allowed {
		ev, err := d.denied(c, dec)
		return ev, true, err
	}
	return "", false, nil
}

// verdict turns a verification result into the flow's next event.
func (d *Deps) verdict(ctx context.Context, c *engine.Ctx, f identity.Factor, res identity.Result) (string, error) {
	s := c.Session
	addTrail(s, string(f), res.String())
	outcome := audit.OutcomeFailure
	if res == identity.Verified {
		outcome = audit.OutcomeSuccess
	}
	d.record(ctx, c, audit.Event{Name: audit.NameVerifyAttempt, Factor: string(f), Outcome: outcome, Reason: res.String()})
	switch res {
	case identity.Verified:
		if err := d.Regulator.Succeed(ctx, regKeys(c)...); err != nil {
			return "", fmt.Errorf("regulation success: %w", err)
		}
		addPassed(s, group(f))
		return d.afterVerified(ctx, c)
	case identity.Expired:
		c.Say("code.expired").Error = true
		return evRetry, nil
	case identity.Exhausted:
		// The attempt that burned the code is a failure like any other.
		dec, err := d.Regulator.Fail(ctx, regKeys(c)...)
		if err != nil {
			return "", fmt.Errorf("regulation failure: %w", err)
		}
		if !dec.Allowed {
			return d.denied(c, dec)
		}
		c.Say("code.expired").Error = true
		return evRetry, nil
	}
	if res == identity.Replayed {
		// A right code used twice may be a stolen one: the owner is told on
		// the channels of record.
		d.record(ctx, c, audit.Event{Name: "totp.replay", Factor: string(f), Outcome: audit.OutcomeDenied})
		if u, ok, err := d.currentUser(ctx, s); err == nil && ok {
			d.noticeAll(ctx, c, u, "notice.totp_replay")
		}
	}
	dec, err := d.Regulator.Fail(ctx, regKeys(c)...)
	if err != nil {
		return "", fmt.Errorf("regulation failure: %w", err)
	}
	if !dec.Allowed {
		return d.denied(c, dec)
	}
	c.EqualizeTo(d.Floor + dec.Delay)
	c.Say("verify.wrong").Error = true
	return "", nil
}

// afterVerified decides whether the policy is met or another factor is needed.
// The requirement is capped by what the user has, so a user with only a phone
// can still reset ("2 when 2 are enrolled").
func (d *Deps) afterVerified(ctx context.Context, c *engine.Ctx) (string, error) {
	s := c.Session
	need := d.Policy.Required(s.Flow, s.Channel)
	if have, err := d.availableGroups(ctx, c); err != nil {
		return "", err
	} else if have < need {
		need = have
	}
	if len(passedGroups(s)) >= need {
		if q, err := d.needQuestions(ctx, c); err != nil || q {
			return evQuestions, err
		}
		return d.verified(ctx, c)
	}
	c.Say("verify.ok_more")
	return evMore, nil
}

// verified records a completed verification, makes this the account's
// active conversation and reports it to the handoff.
func (d *Deps) verified(ctx context.Context, c *engine.Ctx) (string, error) {
	s := c.Session
	if err := d.claim(ctx, c); err != nil {
		return "", err
	}
	s.Set(varVerified, strconv.FormatInt(c.Now.Unix(), 10))
	d.report(ctx, c, HandoffVerified, s.Get(varFactor), "")
	return evVerified, nil
}

// availableGroups counts the independent factor groups the user can use.
func (d *Deps) availableGroups(ctx context.Context, c *engine.Ctx) (int, error) {
	u, ok, err := d.currentUser(ctx, c.Session)
	if err != nil || !ok {
		return 1, err
	}
	groups := map[string]bool{}
	for _, f := range d.Policy.Enabled {
		switch f {
		case identity.FactorTOTP:
			if d.TOTP != nil {
				on, err := d.TOTP.Enrolled(ctx, userKey(u))
				if err != nil {
					return 0, fmt.Errorf("totp enrolled: %w", err)
				}
				if on {
					groups[group(f)] = true
				}
			}
		case identity.FactorSMS, identity.FactorVoice:
			if u.Mobile != "" {
				groups[group(f)] = true
			}
		case identity.FactorEmail:
			if u.Email != "" {
				groups[group(f)] = true
			}
		}
	}
	if len(groups) == 0 {
		return 1, nil
	}
	return len(groups), nil
}

// denied tells the person to wait and ends the flow with an escalation.
func (d *Deps) denied(c *engine.Ctx, dec regulation.Decision) (string, error) {
	mins := int(dec.RetryAfter.Round(time.Minute).Minutes())
	if mins < 1 {
		mins = 1
	}
	c.Session.Set(varDenyReason, dec.Reason)
	c.Say("regulation.denied", "minutes", strconv.Itoa(mins))
	return evLockedOut, nil
}

const varDenyReason = "dr"

// record writes a flow audit event with the turn's context.
func (d *Deps) record(ctx context.Context, c *engine.Ctx, ev audit.Event) {
	c.Audit(ctx, ev)
}

func mask(f identity.Factor, dest string) string {
	if f == identity.FactorEmail {
		return audit.MaskEmail(dest)
	}
	return audit.MaskPhone(dest)
}

// message renders a notification for factor f's channel.
func (d *Deps) message(c *engine.Ctx, f identity.Factor, to, id string, args map[string]string) notify.Message {
	loc := c.Session.Locale
	m := notify.Message{To: to, Summary: id, Locale: loc}
	switch f {
	case identity.FactorVoice:
		m.Voice = secret.New(d.Renderer.Text(loc, id, true, args))
		m.Body = m.Voice
	case identity.FactorEmail:
		m.Subject = d.Renderer.Text(loc, id+".subject", false, nil)
		m.Body = secret.New(d.Renderer.Text(loc, id, false, args))
	default:
		m.Body = secret.New(d.Renderer.Text(loc, id, false, args))
	}
	return m
}

// send delivers m on the channel that carries factor f.
func (d *Deps) send(ctx context.Context, f identity.Factor, m notify.Message) error {
	ch := notify.ChannelSMS
	switch f {
	case identity.FactorVoice:
		ch = notify.ChannelVoice
	case identity.FactorEmail:
		ch = notify.ChannelEmail
	}
	snd := d.Senders[ch]
	if snd == nil {
		return fmt.Errorf("no sender for %s", ch)
	}
	return snd.Send(ctx, m)
}
