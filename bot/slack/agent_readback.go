package slack

import (
	"context"
	"errors"

	"github.com/slack-go/slack"

	"github.com/resetbot/resetbot/core/handoff"
	"github.com/resetbot/resetbot/core/secret"
)

// Readbacks is what the read-back command needs of the handoff store
// (*handoff.Store). Verifying the account's factors in the DM proves the
// owner, not the caller: only the number the DM showed, read back by the
// caller and entered here, makes a verify handoff verified.
type Readbacks interface {
	Get(ctx context.Context, id string) (handoff.Handoff, error)
	ConfirmReadback(ctx context.Context, id string, phrase secret.String) (handoff.ReadbackResult, error)
}

// agentReadback checks the number for an agent already checked by
// onAgentCommand. Only the agent who started the verify handoff may enter
// it; any other handoff answers like a missing one. The number is a secret:
// never logged, never echoed.
func (b *Bot) agentReadback(ctx context.Context, c slack.SlashCommand, loc, id string, phrase secret.String) (any, error) {
	rb, ok := b.o.Handoffs.(Readbacks)
	if !ok {
		return ephemeral(b.text(loc, "agent.readback.none")), nil
	}
	h, err := rb.Get(ctx, id)
	if errors.Is(err, handoff.ErrNotFound) || (err == nil && (h.Action != handoff.ActionVerify ||
		h.Requester != requesterPrefix+userKey(c.TeamID, c.UserID))) {
		b.auditRefusal(ctx, userKey(c.TeamID, c.UserID), "readback_not_owner")
		return ephemeral(b.text(loc, "agent.readback.none")), nil
	}
	if err != nil {
		b.log.Warn("slack read-back: handoff lookup failed", "err", err)
		return ephemeral(b.text(loc, "agent.readback.error")), nil
	}
	res, err := rb.ConfirmReadback(ctx, id, phrase)
	switch {
	case errors.Is(err, handoff.ErrFinal):
		return ephemeral(b.text(loc, "agent.readback.none")), nil
	case err != nil:
		b.log.Warn("slack read-back failed", "err", err)
		return ephemeral(b.text(loc, "agent.readback.error")), nil
	case res == handoff.ReadbackVerified:
		return ephemeral(b.text(loc, "agent.readback.verified")), nil
	case res == handoff.ReadbackFailed:
		return ephemeral(b.text(loc, "agent.readback.failed")), nil
	}
	return ephemeral(b.text(loc, "agent.readback.wrong")), nil
}
