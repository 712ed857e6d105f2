package flows

import (
	"context"
	"fmt"
	"strings"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/engine"
)

// Events shared by the flows.
const (
	evIdentified = "identified"
	evAmbiguous  = "ambiguous"
	evChallenge  = "challenge"
	evVerified   = "verified"
	evMore       = "more"
	evRetry      = "retry"
	evLockedOut  = "locked_out"
	evOK         = "ok"
	evBlocked    = "blocked"
	evDone       = "done"
)

// identify asks who the person is. On entry it tries the platform's identity
// hints (a Slack profile email): a hint may pick the account, never verify it.
func (d *Deps) identify() engine.Step {
	return engine.Step{
		Auto: true,
		Prompt: func(_ context.Context, c *engine.Ctx) {
			o := c.Say("identify.prompt")
			if c.Voice {
				o.Expect = engine.Expect{Kind: engine.ExpectDigits, MinDigits: 3, MaxDigits: 12}
			} else {
				o.Expect = engine.Expect{Kind: engine.ExpectText}
			}
		},
		Handle: func(ctx context.Context, c *engine.Ctx, in engine.Input) (string, error) {
			if in.Kind == 0 {
				if start := c.Turn.Input; start.Kind == engine.InputStart && start.Handoff != "" {
					return d.fromHandoff(ctx, c, start.Handoff)
				}
				// Every start takes the same time, whether hints came,
				// mapped, or did not: the reply to a chat identity that
				// maps to nothing is the plain start's, timing included.
				c.EqualizeTo(d.Floor)
				return d.fromHints(ctx, c)
			}
			if in.Kind != engine.InputText && in.Kind != engine.InputDigits {
				c.Say(engine.MsgBadChoice)
				return "", nil
			}
			c.EqualizeTo(d.Floor)
			return d.lookup(ctx, c, strings.TrimSpace(in.Value.Reveal()))
		},
	}
}

// fromHints picks the account from the platform identity when it maps to
// exactly one account and the adapter vouches for it (engine.Hints): the
// conversation then starts at once for that account, naming it, with a
// "different account" choice. The hint is a signal, never a factor: the
// verification that follows is the same. No match, several matches or an
// unverified hint leave the conversation exactly where a plain start is.
func (d *Deps) fromHints(ctx context.Context, c *engine.Ctx) (string, error) {
	h := c.Turn.Hints
	if h.Unverified || loadV(c.Session).NoHint || c.Session.Flow == FlowVerify {
		return "", nil
	}
	for _, q := range []struct {
		key directory.Key
		v   string
	}{{directory.ByEmail, h.Email}, {directory.ByLogin, h.Login}} {
		if q.v == "" {
			continue
		}
		users, err := d.Directory.Find(ctx, q.key, q.v)
		if err != nil {
			return "", fmt.Errorf("identify from hint: %w", err)
		}
		if len(users) == 1 {
			if err := d.identified(ctx, c, users[0]); err != nil {
				return "", err
			}
			updateV(c.Session, func(v *verification) { v.ViaHint = true })
			nameAccount(c, users[0].Login)
			return evIdentified, nil
		}
		if len(users) > 1 {
			// Ambiguous: not for a signal to settle.
			return "", nil
		}
	}
	return "", nil
}

// lookup finds the account from what the person typed: a login, an email or
// an employee number (the only thing a keypad can send).
func (d *Deps) lookup(ctx context.Context, c *engine.Ctx, typed string) (string, error) {
	if typed == "" || len(typed) > 256 {
		c.Say(engine.MsgBadChoice)
		return "", nil
	}
	dec, err := d.Regulator.Check(ctx, identityKeys(c)...)
	if err != nil {
		return "", fmt.Errorf("regulation before lookup: %w", err)
	}
	if !dec.Allowed {
		return d.denied(c, dec)
	}
	if c.Voice {
		if ev, ok, err := d.redeemCode(ctx, c, typed); ok || err != nil {
			return ev, err
		}
	}
	d.setTyped(c.Session, typed)
	var keys []directory.Key
	switch {
	case c.Voice || isDigits(typed):
		keys = []directory.Key{directory.ByEmployeeNumber}
		if !c.Voice {
			keys = append(keys, directory.ByLogin)
		}
	case strings.Contains(typed, "@"):
		keys = []directory.Key{directory.ByEmail, directory.ByLogin}
	default:
		keys = []directory.Key{directory.ByLogin}
	}
	var found []directory.User
	for _, k := range keys {
		users, err := d.Directory.Find(ctx, k, typed)
		if err != nil {
			return "", fmt.Errorf("identify: %w", err)
		}
		if len(users) > 0 {
			found = users
			break
		}
	}
	switch len(found) {
	case 0:
		d.setPhantom(c.Session, typed)
	case 1:
		if err := d.identified(ctx, c, found[0]); err != nil {
			return "", err
		}
	default:
		logins := make([]string, 0, len(found))
		for _, u := range found {
			logins = append(logins, u.Login)
		}
		updateV(c.Session, func(v *verification) { v.Candidates = logins })
		return evAmbiguous, nil
	}
	return evIdentified, nil
}

// disambiguate asks for something only the right one of several candidates
// matches: the login or email in chat, the last four digits of the mobile
// number on the keypad.
func (d *Deps) disambiguate() engine.Step {
	return engine.Step{
		Prompt: func(_ context.Context, c *engine.Ctx) {
			if c.Voice {
				c.Say("identify.more").Expect = engine.Expect{Kind: engine.ExpectDigits, MinDigits: 4, MaxDigits: 4}
				return
			}
			c.Say("identify.more").Expect = engine.Expect{Kind: engine.ExpectText}
		},
		Handle: func(ctx context.Context, c *engine.Ctx, in engine.Input) (string, error) {
			c.EqualizeTo(d.Floor)
			typed := strings.TrimSpace(in.Value.Reveal())
			var match []directory.User
			for _, l := range loadV(c.Session).Candidates {
				users, err := d.Directory.Find(ctx, directory.ByLogin, l)
				if err != nil {
					return "", fmt.Errorf("disambiguate: %w", err)
				}
				for _, u := range users {
					if matchesMore(u, typed, c.Voice) {
						match = append(match, u)
					}
				}
			}
			if len(match) == 1 {
				if err := d.identified(ctx, c, match[0]); err != nil {
					return "", err
				}
			} else {
				d.setPhantom(c.Session, typed)
			}
			return evIdentified, nil
		},
	}
}

func matchesMore(u directory.User, typed string, voice bool) bool {
	if voice {
		digits := onlyDigits(u.Mobile)
		return len(digits) >= 4 && len(typed) == 4 && strings.HasSuffix(digits, typed)
	}
	return strings.EqualFold(u.Login, typed) || (u.Email != "" && strings.EqualFold(u.Email, typed))
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func onlyDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
