package teams

import "context"

// liftVerb ends the agent command that lifts the bot's pauses on an
// account: "@resetbot handoff alice@corp.example lift". It is the help
// desk's answer to an owner whose account strangers paused with wrong codes
// (core/regulation); the Lifter audits it with the agent as actor. Who may
// run it is decided by isAgent, as for every agent command.
const liftVerb = "lift"

// Lifter lifts the bot's pauses on an account (core/handoff.Lifter).
type Lifter interface {
	Lift(ctx context.Context, user, actor, channel string, inScope func(dn string) bool) (found bool, err error)
}

// agentLift lifts and returns the catalogued reply for the agent.
func (b *Bot) agentLift(ctx context.Context, user, agent string) string {
	if b.lifter == nil {
		return "agent.lift.failed"
	}
	found, err := b.lifter.Lift(ctx, user, requesterAgent+agent, Channel, nil)
	switch {
	case err != nil:
		b.log.Error("teams: agent lift failed", "err", err)
		return "agent.lift.failed"
	case !found:
		return "agent.lift.none"
	}
	return "agent.lift.done"
}
