package teams

import (
	"context"
	"errors"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/handoff"
	"github.com/resetbot/resetbot/core/secret"
)

// Readbacks is what the read-back command needs of the handoff store
// (*handoff.Store): "@resetbot confirm <handoff id> <number>". Verifying the
// account's factors in the DM proves the owner, not the caller: only the
// number the DM showed, read back by the caller and entered here, makes a
// verify handoff verified.
type Readbacks interface {
	Get(ctx context.Context, id string) (handoff.Handoff, error)
	ConfirmReadback(ctx context.Context, id string, phrase secret.String) (handoff.ReadbackResult, error)
}

// agentReadback checks the number for an agent already checked by
// agentTurn and returns the catalogued reply. Only the agent who started
// the verify handoff may enter it; any other handoff answers like a missing
// one. The number is a secret: never logged, never echoed.
func (b *Bot) agentReadback(ctx context.Context, agent, id string, phrase secret.String) string {
	rb, ok := b.handoffs.(Readbacks)
	if !ok {
		return "agent.readback.none"
	}
	h, err := rb.Get(ctx, id)
	if errors.Is(err, handoff.ErrNotFound) || (err == nil && (h.Action != handoff.ActionVerify || h.Requester != requesterAgent+agent)) {
		if err := b.audit.Write(ctx, audit.Event{Name: NameHandoffRefused, Channel: Channel, Actor: requesterAgent + agent,
			Outcome: audit.OutcomeDenied, Reason: "readback_not_owner"}); err != nil {
			b.log.Error("teams: audit write failed", "err", err)
		}
		return "agent.readback.none"
	}
	if err != nil {
		b.log.Warn("teams read-back: handoff lookup failed", "err", err)
		return "agent.readback.error"
	}
	res, err := rb.ConfirmReadback(ctx, id, phrase)
	switch {
	case errors.Is(err, handoff.ErrFinal):
		return "agent.readback.none"
	case err != nil:
		b.log.Warn("teams read-back failed", "err", err)
		return "agent.readback.error"
	case res == handoff.ReadbackVerified:
		return "agent.readback.verified"
	case res == handoff.ReadbackFailed:
		return "agent.readback.failed"
	}
	return "agent.readback.wrong"
}
