package flows

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/secret"
)

// HandoffInfo is what the flows need of a help-desk handoff.
type HandoffInfo struct {
	ID string
	// Action is the flow the help desk asked for (reset, unlock, verify).
	Action string
	// User is the login or email the help desk named.
	User string
}

// Handoffs connects conversations to help-desk handoffs (core/handoff). A
// handoff identifies the account — the agent or ticket named it — but never
// verifies the person: the flow still asks for the policy's factors.
type Handoffs interface {
	// Lookup returns a live handoff; ErrNoHandoff when unknown or finished.
	Lookup(ctx context.Context, id string) (HandoffInfo, error)
	// Redeem consumes a one-time phone handoff code; false when it does not match.
	Redeem(ctx context.Context, code secret.String) (HandoffInfo, bool, error)
	// Report records progress: status is started, verified, done, failed or
	// escalated; factor and reason may be empty; ref is the turn's reference.
	Report(ctx context.Context, id, status, factor, reason, ref string) error
}

// ErrNoHandoff is returned by Handoffs.Lookup for an unknown or finished handoff.
var ErrNoHandoff = errors.New("flows: no such handoff")

// Handoff statuses reported by the flows.
const (
	HandoffStarted   = "started"
	HandoffVerified  = "verified"
	HandoffDone      = "done"
	HandoffFailed    = "failed"
	HandoffEscalated = "escalated"
)

const (
	varHandoff = "ho"
	varRedeems = "hr" // handoff codes tried in this call
	maxRedeems = 3
)

// HandoffCodeDigits is the length of phone handoff codes (core/handoff
// issues exactly this many). Employee numbers are commonly 8 digits; a code
// of 10 can never be one, so an employee number is never tried as a code
// (and never spends the shared budget of wrong codes), and a code is never
// looked up as an employee number.
const HandoffCodeDigits = 10

// fromHandoff identifies the account named by the handoff that started the
// conversation. An unknown handoff continues as an unknown user would.
func (d *Deps) fromHandoff(ctx context.Context, c *engine.Ctx, id string) (string, error) {
	if d.Handoffs == nil {
		return "", nil
	}
	h, err := d.Handoffs.Lookup(ctx, id)
	if errors.Is(err, ErrNoHandoff) {
		c.Audit(ctx, auditEvent("handoff.unknown", ""))
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("handoff lookup: %w", err)
	}
	return d.adopt(ctx, c, h)
}

// redeemCode tries a keypad entry as a phone handoff code.
func (d *Deps) redeemCode(ctx context.Context, c *engine.Ctx, typed string) (string, bool, error) {
	if d.Handoffs == nil || len(typed) != HandoffCodeDigits || c.Session.Int(varRedeems) >= maxRedeems {
		return "", false, nil
	}
	// Wrong codes draw on a budget shared by every caller: one call may try
	// only a few.
	c.Session.SetInt(varRedeems, c.Session.Int(varRedeems)+1)
	h, ok, err := d.Handoffs.Redeem(ctx, secret.New(typed))
	if err != nil || !ok {
		return "", false, err
	}
	ev, err := d.adopt(ctx, c, h)
	return ev, ev != "", err
}

// adopt binds the conversation to handoff h and its account.
func (d *Deps) adopt(ctx context.Context, c *engine.Ctx, h HandoffInfo) (string, error) {
	key := directory.ByLogin
	if strings.Contains(h.User, "@") {
		key = directory.ByEmail
	}
	users, err := d.Directory.Find(ctx, key, h.User)
	if err != nil {
		return "", fmt.Errorf("handoff user: %w", err)
	}
	if len(users) != 1 {
		return "", nil
	}
	if err := d.identified(ctx, c, users[0]); err != nil {
		return "", err
	}
	c.Session.Set(varHandoff, h.ID)
	d.report(ctx, c, HandoffStarted, "", "")
	return evIdentified, nil
}

// report tells the handoff, if any, how the conversation is going. A failure
// to report is logged: the person's conversation goes on.
func (d *Deps) report(ctx context.Context, c *engine.Ctx, status, factor, reason string) {
	id := c.Session.Get(varHandoff)
	if id == "" || d.Handoffs == nil {
		return
	}
	if err := d.Handoffs.Report(ctx, id, status, factor, reason, c.Ref); err != nil {
		d.Log.Warn("handoff status not recorded", "ref", c.Ref, "status", status, "err", err)
	}
}

func auditEvent(name, reason string) audit.Event { return audit.Event{Name: name, Reason: reason} }
