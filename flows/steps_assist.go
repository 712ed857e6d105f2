package flows

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/secret"
)

// Agent-assisted verification (the verify flow) must prove the caller, not
// only the account owner: otherwise an attacker phones the help desk as the
// victim, the real victim verifies in the DM, and the agent sees "verified"
// while talking to the attacker (CISA AA23-320A). After the factors the
// person is shown a one-time number to read back to the agent; only the
// agent's entry of it (agent command, ITSM API) makes the handoff verified.
// Every prompt says plainly that the help desk asked, and offers Not me.

// ReadbackDigits is the length of the read-back number.
const ReadbackDigits = 6

// Readbacks is what the verify flow needs of the handoff store.
type Readbacks interface {
	// AwaitReadback records (a keyed hash of) the phrase the person was
	// shown for handoff id.
	AwaitReadback(ctx context.Context, id string, phrase secret.String) error
}

// readback shows the read-back number once verification is complete, then
// waits: the agent confirms it out of band; the person may still press Not me.
func (d *Deps) readback() engine.Step {
	return engine.Step{
		Auto: true,
		Prompt: func(_ context.Context, c *engine.Ctx) {
			c.Say("assist.readback_wait").Expect = engine.Expect{Kind: engine.ExpectChoice,
				Choices: []engine.Choice{{ID: choiceNotMe, MessageID: "assist.not_me"}}}
		},
		Handle: func(ctx context.Context, c *engine.Ctx, in engine.Input) (string, error) {
			if in.Kind == 0 {
				return d.showReadback(ctx, c)
			}
			if in.Kind == engine.InputChoice && in.Choice == choiceNotMe {
				return d.notMe(ctx, c)
			}
			if id := c.Session.Get(varHandoff); id != "" && d.Handoffs != nil {
				_, err := d.Handoffs.Lookup(ctx, id)
				if errors.Is(err, ErrNoHandoff) {
					// The agent confirmed (or the handoff ended): nothing to wait for.
					return evDone, nil
				}
				if err != nil {
					return "", fmt.Errorf("handoff lookup: %w", err)
				}
			}
			return "", nil
		},
	}
}

// showReadback draws the phrase, hands its keyed hash to the handoff and
// shows the phrase to the person. The phrase is a secret: it is never in a
// log line or an audit record, only in this one sensitive output.
func (d *Deps) showReadback(ctx context.Context, c *engine.Ctx) (string, error) {
	rb, ok := d.Handoffs.(Readbacks)
	id := c.Session.Get(varHandoff)
	if !ok || id == "" {
		// Without a handoff there is no agent to read back to: verification
		// cannot be bound to a caller, so it is never reported as verified.
		c.Session.Set(varEscReason, "no_handoff")
		return engine.EventEscalate, nil
	}
	phrase, err := readbackDigits(d.Rand, ReadbackDigits)
	if err != nil {
		return "", fmt.Errorf("read-back phrase: %w", err)
	}
	if err := rb.AwaitReadback(ctx, id, phrase); err != nil {
		return "", fmt.Errorf("await read-back: %w", err)
	}
	updateV(c.Session, func(v *verification) { v.Readback.Shown = c.Now.Unix() })
	c.Audit(ctx, audit.Event{Name: "assist.readback_shown"})
	p := phrase.Reveal()
	o := c.Say("assist.readback", "phrase", p[:3]+" "+p[3:])
	o.Sensitive = true
	return "", nil
}

// notMe is the person saying they are not on a call with the help desk:
// the handoff fails and a security alert goes out with the context packet.
func (d *Deps) notMe(ctx context.Context, c *engine.Ctx) (string, error) {
	c.Audit(ctx, audit.Event{Name: "assist.not_me", Outcome: audit.OutcomeDenied})
	c.Say("assist.not_me_done")
	c.Session.Set(varEscReason, "not_me")
	return engine.EventEscalate, nil
}

// alertReasons are the escalation reasons that are security alerts.
var alertReasons = map[string]bool{"not_me": true}

// readbackDigits returns n uniformly random decimal digits.
func readbackDigits(r io.Reader, n int) (secret.String, error) {
	out := make([]byte, 0, n)
	var buf [16]byte
	for len(out) < n {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return secret.String{}, err
		}
		for _, b := range buf {
			if b < 250 && len(out) < n { // 250 = 25*10: no digit more likely
				out = append(out, '0'+b%10)
			}
		}
	}
	return secret.New(string(out)), nil
}
