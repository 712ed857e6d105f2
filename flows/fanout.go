package flows

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/fanout"
	"github.com/resetbot/resetbot/core/secret"
)

// refusedByTarget checks pw against every connected system before the
// primary changes. A refusal is audited and, when tell is set (a typed
// password), told to the person naming the system and the rule; a generated
// passphrase refused by a target goes to the help desk instead.
func (d *Deps) refusedByTarget(ctx context.Context, c *engine.Ctx, u directory.User, pw secret.String, tell bool) (bool, error) {
	if d.Fanout == nil {
		return false, nil
	}
	ref, err := d.Fanout.Check(ctx, u, pw)
	if err != nil {
		return false, fmt.Errorf("fan-out check: %w", err)
	}
	if ref == nil {
		return false, nil
	}
	if tell {
		c.Emit(engine.Output{MessageID: ref.MessageID(), Args: ref.Args(), Error: true})
	}
	c.Audit(ctx, audit.Event{Name: fanout.NameRefused, Outcome: audit.OutcomeDenied, Reason: ref.Reason,
		Fields: map[string]string{"target": ref.Target}})
	return true, nil
}

// fanOut carries the new password to the connected systems after the
// primary changed, and tells the person which have it, which will follow and
// which could not be updated. Nothing here undoes the primary's change.
func (d *Deps) fanOut(ctx context.Context, c *engine.Ctx, u directory.User, pw secret.String) {
	if d.Fanout == nil {
		return
	}
	rep := d.Fanout.Push(ctx, fanout.Origin{Ref: c.Ref, Locale: c.Session.Locale}, u, pw)
	if l := rep.Labels(fanout.StatusDone); len(l) > 0 {
		c.Say("fanout.done", "targets", strings.Join(l, ", "))
	}
	if l := rep.Labels(fanout.StatusPending); len(l) > 0 {
		c.Say("fanout.pending", "targets", strings.Join(l, ", "), "minutes", strconv.Itoa(int(rep.Window.Minutes())), "ref", c.Ref)
	}
	if l := rep.Labels(fanout.StatusFailed); len(l) > 0 {
		c.Say("fanout.failed", "targets", strings.Join(l, ", "), "ref", c.Ref)
	}
}

// escalateUnless escalates, or returns err when there is one.
func escalateUnless(err error) (string, error) {
	if err != nil {
		return "", err
	}
	return engine.EventEscalate, nil
}
