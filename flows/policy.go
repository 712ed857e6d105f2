package flows

import (
	"context"
	"fmt"
	"slices"

	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/identity"
)

// Voice reset modes: what a reset on the phone does, since nobody should key
// or hear a password.
const (
	// VoicePassphraseSMS sets a generated passphrase, must-change, and texts it
	// to the verified mobile number.
	VoicePassphraseSMS = "passphrase_sms"
	// VoiceUnlockOnly refuses resets on the phone; unlock still works.
	VoiceUnlockOnly = "unlock_only"
)

// Requirement says how many independent factors a flow needs.
type Requirement struct {
	// Default applies on every channel without its own entry.
	Default int
	// Channels overrides Default per channel ("voice": 2).
	Channels map[string]int
	// Questions adds the user's security questions after the counted
	// factors, in chat, when the user has enrolled them. They never count.
	Questions bool
}

// Policy is the verification policy a security team signs off: how many
// independent factor groups each flow needs, whether it needs the strongest
// factor the account has, and whether a phone code may stand alone. Which
// factors exist, and in which order they are offered, is the method registry
// (Deps.Methods).
type Policy struct {
	Require map[string]Requirement
	// Strongest lists the flows that need the strongest factor the account
	// has of record (an authenticator user is never reset without the
	// authenticator). Default: reset and enroll.
	Strongest []string
	// PhoneAlone lets a single factor weaker than an authenticator (a phone
	// code, "restricted" in NIST SP 800-63B-4) satisfy a reset when the
	// count allows one. Off by default: such a reset needs a second group.
	PhoneAlone bool
	// NotifyManager also sends notices of resets, unlocks and enrollments to
	// the manager of record (Deps.Managers).
	NotifyManager bool
	// VoiceReset is VoicePassphraseSMS (default) or VoiceUnlockOnly.
	VoiceReset string
	// MaxUnlocksPerDay caps unlocks per account, so the bot cannot keep
	// clearing the lockouts of a password-spraying attack (default 3).
	MaxUnlocksPerDay int
}

// DefaultPolicy is the policy of the demo and the documented defaults: a
// reset needs two independent groups including the strongest factor of
// record; unlock needs one.
func DefaultPolicy() Policy {
	return Policy{
		Strongest: []string{FlowReset, FlowEnroll},
		Require: map[string]Requirement{
			FlowReset:  {Default: 2},
			FlowUnlock: {Default: 1},
			FlowEnroll: {Default: 1},
			FlowVerify: {Default: 1},
		},
		VoiceReset: VoicePassphraseSMS,
	}
}

// Required returns how many factors flow needs on channel (at least 1).
// Enrolling a factor needs at least what a reset needs: a factor bound with
// less would let a reset through with less. A change sets a password just as
// a reset does, so it needs at least as much too.
func (p Policy) Required(flow, channel string) int {
	n := p.required(flow, channel)
	if flow == FlowEnroll || flow == FlowChange {
		n = max(n, p.required(FlowReset, channel))
	}
	return n
}

func (p Policy) required(flow, channel string) int {
	r := p.Require[flow]
	n := r.Default
	if v, ok := r.Channels[channel]; ok {
		n = v
	}
	if n < 1 {
		n = 1
	}
	return n
}

// asksQuestions reports whether flow adds the security questions; enrolling
// asks them whenever a reset does, so re-enrolling cannot sidestep them.
func (p Policy) asksQuestions(flow string) bool {
	return p.Require[flow].Questions || (setsPassword(flow) && p.Require[FlowReset].Questions)
}

// strongest reports whether flow needs the strongest factor of record
// (enrolling always does when a reset does).
func (p Policy) strongest(flow string) bool {
	return slices.Contains(p.Strongest, flow) || (setsPassword(flow) && slices.Contains(p.Strongest, FlowReset))
}

// setsPassword reports whether flow sets a password or binds a factor, and
// so is held to everything a reset is held to (the change flow included).
func setsPassword(flow string) bool {
	return flow == FlowReset || flow == FlowEnroll || flow == FlowChange
}

// standing is what the account has of record: its groups and the strength
// of its strongest method.
type standing struct {
	groups map[identity.Group]bool
	top    identity.Strength
}

// ofRecord asks every method whether the account has it. It runs only after
// a factor was proved (or for the help desk's packet), never to build a menu.
func (d *Deps) standing(ctx context.Context, c *engine.Ctx) (standing, []string, error) {
	st := standing{groups: map[identity.Group]bool{}}
	sub, err := d.subject(ctx, c.Session)
	if err != nil || sub.Nobody() {
		return st, nil, err
	}
	var names []string
	for _, m := range d.Methods.Methods() {
		has, err := m.Has(ctx, sub)
		if err != nil {
			return st, nil, fmt.Errorf("%s of record: %w", m.Factor(), err)
		}
		if has {
			st.groups[m.Group()] = true
			st.top = max(st.top, m.Strength())
			names = append(names, string(m.Factor()))
		}
	}
	return st, names, nil
}

// ofRecord lists the account's factors of record for an escalation packet;
// a lookup failure leaves it empty (the escalation matters more).
func (d *Deps) ofRecord(ctx context.Context, c *engine.Ctx) []string {
	_, names, err := d.standing(ctx, c)
	if err != nil {
		d.Log.Warn("factors of record unknown for escalation", "ref", c.Ref, "err", err)
	}
	return names
}

// needs returns how many independent groups the conversation needs and the
// strength it must reach, given the account's standing: the flow's count, at
// least two for a reset or enrollment without an authenticator (unless the
// operator lets a phone code stand alone), and the strongest factor of
// record where the flow needs it.
func (d *Deps) needs(c *engine.Ctx, st standing) (int, identity.Strength) {
	s := c.Session
	need := d.Policy.Required(s.Flow, s.Channel)
	resetLike := setsPassword(s.Flow)
	if resetLike && !d.Policy.PhoneAlone && loadV(s).Top < identity.StrengthApp {
		need = max(need, 2)
	}
	var needTop identity.Strength
	if d.Policy.strongest(s.Flow) {
		needTop = st.top
	}
	return need, needTop
}

// afterVerified applies the policy once a factor was proved: the required
// count of independent groups, the strongest factor of record where the flow
// needs it, and no reset on a phone code alone unless the operator opted in.
// An account that cannot meet the policy with what it has is sent to the
// help desk with the context packet — never waved through with less. This is
// told only now, after the person proved a factor, so it reveals nothing to
// whoever merely typed a login.
func (d *Deps) afterVerified(ctx context.Context, c *engine.Ctx, m identity.Method) (string, error) {
	s := c.Session
	v := loadV(s)
	st, _, err := d.standing(ctx, c)
	if err != nil {
		return "", err
	}
	need, needTop := d.needs(c, st)
	resetLike := setsPassword(s.Flow)
	if len(v.Passed) >= need && v.Top >= needTop {
		if resetLike && v.Top < identity.StrengthApp {
			// NIST SP 800-63B-4 calls phone codes restricted: say so.
			c.Say("factor.app_stronger")
		}
		if q, err := d.needQuestions(ctx, c); err != nil || q {
			return evQuestions, err
		}
		return d.verified(ctx, c)
	}
	if len(st.groups) < need {
		c.Say("verify.insufficient")
		s.Set(varEscReason, "insufficient_factors")
		return engine.EventEscalate, nil
	}
	if v.Top < needTop && needTop >= identity.StrengthApp {
		c.Say("verify.need_strongest")
		return evMore, nil
	}
	c.Say("verify.ok_more")
	return evMore, nil
}
