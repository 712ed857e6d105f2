package flows

import (
	"context"
	"slices"

	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/identity"
)

// The fast path: one action per factor. Instead of a menu, the flows
// challenge a default method at once and offer the others next to its
// prompt (Expect.Choices on the code field), so a person with an
// authenticator types its code, and anyone else picks another method in the
// same single action the menu took. The number of factors required never
// changes: only the menus between them go.

// Choices next to a prompt besides the methods.
const (
	// choiceOther goes back to asking for a login when the account was
	// picked from the platform identity ("different account").
	choiceOther = "other_account"
)

// evOther leads back to identification ("different account").
const evOther = "other_account"

// fastChoose reports whether the flow skips the factor menu. Agent-assisted
// verification keeps it: its menu says who is asking and offers "not me".
func fastChoose(c *engine.Ctx) bool { return c.Session.Flow != FlowVerify }

// defaultMethod picks the method to challenge at once and the alternatives
// offered next to its prompt; ok is false when the menu must be shown.
//
// Before any factor passed, the choice must not depend on the account (no
// oracle): it is the method picked last in this conversation (a retry after
// an expired code), else the first offered — the strongest registered
// method, the authenticator — for everyone, known, unknown or not enrolled.
// The alternatives are every other offered method.
//
// After a factor passed, the account may be consulted (the policy already
// is, afterVerified): the default is the strongest method it has of record
// among those the policy still accepts, and only those are alternatives.
func (d *Deps) defaultMethod(ctx context.Context, c *engine.Ctx) (identity.Method, []identity.Factor, bool, error) {
	v := loadV(c.Session)
	offered := d.offered(c)
	if len(v.Passed) > 0 {
		eligible, err := d.eligible(ctx, c, offered)
		if err != nil || len(eligible) == 0 {
			return nil, nil, false, err
		}
		offered = eligible
	}
	if len(offered) == 0 {
		return nil, nil, false, nil
	}
	pick := offered[0]
	if i := slices.IndexFunc(offered, func(m identity.Method) bool { return m.Factor() == v.Factor }); i >= 0 {
		pick = offered[i]
	}
	var alts []identity.Factor
	for _, m := range offered {
		if m.Factor() != pick.Factor() {
			alts = append(alts, m.Factor())
		}
	}
	return pick, alts, true, nil
}

// eligible keeps the offered methods the account has of record and the
// policy still accepts (the strongest of record, when the flow needs it).
func (d *Deps) eligible(ctx context.Context, c *engine.Ctx, offered []identity.Method) ([]identity.Method, error) {
	sub, err := d.subject(ctx, c.Session)
	if err != nil || sub.Nobody() {
		return nil, err
	}
	st, _, err := d.standing(ctx, c)
	if err != nil {
		return nil, err
	}
	_, needTop := d.needs(c, st)
	var out []identity.Method
	for _, m := range offered {
		if needTop > loadV(c.Session).Top && m.Strength() < needTop {
			continue
		}
		has, err := m.Has(ctx, sub)
		if err != nil {
			return nil, err
		}
		if has {
			out = append(out, m)
		}
	}
	return out, nil
}

// autoChallenge challenges the default method on entering the choose state;
// "" (with the menu prompted) when there is none or the send budget is spent.
func (d *Deps) autoChallenge(ctx context.Context, c *engine.Ctx) (string, error) {
	if !fastChoose(c) {
		return "", nil
	}
	m, alts, ok, err := d.defaultMethod(ctx, c)
	if err != nil || !ok {
		return "", err
	}
	updateV(c.Session, func(v *verification) { v.Alts = alts })
	return d.challenge(ctx, c, m)
}

// sideChoices are the choices offered next to a code prompt: the other
// methods (each keeps its menu number, so "2" is the text message on every
// prompt of a keypad), "none of these" in chat, and "different account"
// while the account came from the platform identity and nothing passed.
func (d *Deps) sideChoices(c *engine.Ctx) []engine.Choice {
	v := loadV(c.Session)
	all := d.Methods.Methods()
	var out []engine.Choice
	for i, m := range all {
		if slices.Contains(v.Alts, m.Factor()) {
			out = append(out, engine.Choice{ID: string(m.Factor()), MessageID: "factor." + string(m.Factor()), Key: i + 1})
		}
	}
	if !c.Voice {
		out = append(out, engine.Choice{ID: choiceNone, MessageID: "factor.none", Key: len(all) + 1})
		if v.ViaHint && len(v.Passed) == 0 {
			out = append(out, engine.Choice{ID: choiceOther, MessageID: "identify.other", Key: len(all) + 2})
		}
	}
	return out
}

// sideChoice handles a choice made next to a code prompt: another method
// is challenged at once, "none" goes to the help desk, "different account"
// back to the login question. ok is false for anything else.
func (d *Deps) sideChoice(ctx context.Context, c *engine.Ctx, in engine.Input) (string, bool, error) {
	if in.Kind != engine.InputChoice {
		return "", false, nil
	}
	switch {
	case in.Choice == choiceNone && !c.Voice:
		ev, err := d.noFactor(ctx, c)
		return ev, true, err
	case in.Choice == choiceOther && loadV(c.Session).ViaHint:
		return d.otherAccount(ctx, c), true, nil
	}
	v := loadV(c.Session)
	m, ok := d.pick(c, in)
	if !ok || (m.Factor() != v.Factor && !slices.Contains(v.Alts, m.Factor())) {
		return "", false, nil
	}
	if m.Factor() == v.Factor {
		// The method already challenged, picked again: a new code.
		ev, err := d.challenge(ctx, c, m)
		return ev, true, err
	}
	alts := []identity.Factor{v.Factor}
	for _, f := range v.Alts {
		if f != m.Factor() {
			alts = append(alts, f)
		}
	}
	updateV(c.Session, func(v *verification) { v.Alts = alts })
	ev, err := d.challenge(ctx, c, m)
	return ev, true, err
}

// otherAccount forgets the account picked from the platform identity and
// asks for a login, as a plain start does. Live codes are voided; the send
// count stays, so switching accounts buys no extra sends.
func (d *Deps) otherAccount(ctx context.Context, c *engine.Ctx) string {
	d.cancelCodes(ctx, c)
	v := loadV(c.Session)
	c.Session.Set(varUser, "")
	saveV(c.Session, verification{Sends: v.Sends, NoHint: true})
	return evOther
}

// nameAccount says which account a conversation started from the platform
// identity is for ("Resetting the password of amartin").
func nameAccount(c *engine.Ctx, login string) {
	c.Say("identify.as."+c.Session.Flow, "login", login)
}
