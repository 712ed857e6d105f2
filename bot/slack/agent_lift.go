package slack

import (
	"context"
	"strings"

	"github.com/slack-go/slack"
)

// liftVerb is the agent command that lifts the bot's pauses on an account:
// "/handoff @person lift" (or an e-mail address). It is the help desk's
// answer to an owner whose account strangers paused with wrong codes
// (core/regulation); the lift is audited by the Lifter with the agent as
// actor.
const liftVerb = "lift"

// Lifter lifts the bot's pauses on an account (core/handoff.Lifter).
type Lifter interface {
	Lift(ctx context.Context, user, actor, channel string, inScope func(dn string) bool) (found bool, err error)
}

// parseLiftCommand reads "@user lift" or "address lift".
func parseLiftCommand(text string) (agentTarget, bool) {
	f := strings.Fields(text)
	if len(f) != 2 || !strings.EqualFold(f[1], liftVerb) {
		return agentTarget{}, false
	}
	switch {
	case mentionArg.MatchString(f[0]):
		return agentTarget{user: mentionArg.FindStringSubmatch(f[0])[1]}, true
	case mailtoArg.MatchString(f[0]):
		return agentTarget{email: mailtoArg.FindStringSubmatch(f[0])[1]}, true
	case plainMail.MatchString(f[0]):
		return agentTarget{email: f[0]}, true
	}
	return agentTarget{}, false
}

// agentLiftCommand starts a lift for an agent already checked by
// onAgentCommand; the result is told in the agent's DM.
func (b *Bot) agentLiftCommand(ctx context.Context, c slack.SlashCommand, loc string, t agentTarget) (any, error) {
	if b.o.Lifter == nil || c.TriggerID == "" {
		return ephemeral(b.text(loc, "agent.lift.failed")), nil
	}
	delivery := "c:" + c.TriggerID
	if !b.claim(ctx, delivery) {
		return nil, nil
	}
	if err := b.submit(ctx, delivery, func(ctx context.Context) { b.agentLift(ctx, c.TeamID, c.UserID, t) }); err != nil {
		return nil, err
	}
	return ephemeral(b.text(loc, "agent.lift.accepted")), nil
}

// agentLift resolves the person's e-mail address and lifts.
func (b *Bot) agentLift(ctx context.Context, team, agent string, t agentTarget) {
	email := t.email
	if t.user != "" {
		p, err := b.profile(ctx, t.user)
		if err != nil || p.Email == "" || p.Bot || p.Deleted {
			b.tellAgent(ctx, agent, "agent.lift.none")
			return
		}
		email = p.Email
	}
	found, err := b.o.Lifter.Lift(ctx, email, requesterPrefix+userKey(team, agent), Channel, nil)
	switch {
	case err != nil:
		b.log.Warn("slack agent lift failed", "err", err)
		b.tellAgent(ctx, agent, "agent.lift.failed")
	case !found:
		b.tellAgent(ctx, agent, "agent.lift.none")
	default:
		b.tellAgent(ctx, agent, "agent.lift.done")
	}
}
