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
	// A paused factor sends nothing: the owner is told the truth at once
	// instead of receiving a code that cannot be used.
	if dec, err := d.Regulator.Check(ctx, regKeys(c, group(f))...); err != nil {
		return "", fmt.Errorf("regulation before send: %w", err)
	} else if !dec.Allowed {
		return d.denied(c, dec)
	}
	send, budgetDest, budgetUser := ok && dest != "", dest, userKey(u)
	if !send {
		budgetUser = s.Get(varRegKey)
		if ok {
			budgetUser = userKey(u)
		}
		// One stand-in per independence group, as SMS and calls to a real
		// mobile share that number's budget: an unknown login must spend
		// its phone budget the same way.
		budgetDest = "none:" + group(f) + ":" + budgetUser
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
			if ev, stop, err := d.gate(ctx, c, identity.FactorTOTP); stop {
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
			s := c.Session
			f := identity.Factor(s.Get(varFactor))
			if ev, stop, err := d.gate(ctx, c, f); stop {
				return ev, err
			}
			res, err := d.Codes.Check(ctx, challengeKey(s, f), in.Value)
			if err != nil {
				return "", fmt.Errorf("check code: %w", err)
			}
			return d.verdict(ctx, c, f, res)
		},
	}
}

// gate counts the attempt with the regulator before the answer is even
// looked at, so simultaneous attempts can never check more than the limit.
// A refusal ends the conversation: a pause of the account is told as it is
// ("paused until 07:45"), to the owner with a right code and to anyone else
// alike (an unknown login is paused the same way, see regKeys).
func (d *Deps) gate(ctx context.Context, c *engine.Ctx, f identity.Factor) (string, bool, error) {
	c.EqualizeTo(d.Floor)
	dec, err := d.Regulator.Attempt(ctx, regKeys(c, regGroup(f))...)
	if err != nil {
		return "", true, fmt.Errorf("regulation: %w", err)
	}
	if !dec.Allowed {
		c.Audit(ctx, audit.Event{Name: audit.NameRegulationDenied, Factor: string(f), Reason: dec.Reason})
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
		// Only this factor's counts end: holding one factor buys no
		// guesses at another.
		if err := d.Regulator.Succeed(ctx, regKeys(c, group(f))...); err != nil {
			return "", fmt.Errorf("regulation success: %w", err)
		}
		addPassed(s, group(f))
		return d.afterVerified(ctx, c)
	case identity.Expired:
		c.Say("code.expired").Error = true
		return evRetry, nil
	case identity.Exhausted:
		// The attempt that burned the code is a failure like any other.
		dec, err := d.fail(ctx, c, f)
		if err != nil {
			return "", err
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
	dec, err := d.fail(ctx, c, f)
	if err != nil {
		return "", err
	}
	if !dec.Allowed {
		return d.denied(c, dec)
	}
	c.EqualizeTo(d.Floor + dec.Delay)
	c.Say("verify.wrong").Error = true
	return "", nil
}

// fail records a failed attempt on factor f. When it starts a pause of the
// account, the owner is warned on the channels of record (at most once per
// regulation.Limits.NoticeEvery, so the warning cannot become a flood).
func (d *Deps) fail(ctx context.Context, c *engine.Ctx, f identity.Factor) (regulation.Decision, error) {
	dec, err := d.Regulator.Fail(ctx, regKeys(c, regGroup(f))...)
	if err != nil {
		return dec, fmt.Errorf("regulation failure: %w", err)
	}
	if !dec.Started || phantom(c.Session) {
		return dec, nil
	}
	u, ok, err := d.currentUser(ctx, c.Session)
	if err != nil || !ok {
		return dec, err
	}
	due, err := d.Regulator.Notice(ctx, regulation.Key{Scope: regulation.ScopeUser, ID: userKey(u)})
	if err != nil {
		return dec, fmt.Errorf("regulation notice: %w", err)
	}
	if due {
		c.Audit(ctx, audit.Event{Name: NameAttackNotice, Factor: string(f), Reason: dec.Reason})
		d.noticeAll(ctx, c, u, "notice.attack")
	}
	return dec, nil
}

// regGroup is the name factor f is regulated under: its independence group
// (SMS and calls to one phone are one count), else the factor itself.
func regGroup(f identity.Factor) string {
	if g := group(f); g != "" {
		return g
	}
	return string(f)
}

// factorEnroll regulates the confirmation codes of a new authenticator apart
// from the factors that verify.
const factorEnroll identity.Factor = "enroll"

// NameAttackNotice is the audit event of a warning to an account's owner
// that wrong answers paused verification for their account.
const NameAttackNotice = "regulation.notice"

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

// denied tells the person to wait and ends the flow with an escalation. A
// pause of the account (or of what was typed) says until when, in plain
// words, so the owner with a right code hears the truth, not "that did not
// work"; a throttle of the person's own identity says how long to wait.
func (d *Deps) denied(c *engine.Ctx, dec regulation.Decision) (string, error) {
	c.Session.Set(varDenyReason, dec.Reason)
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
