package mattermost

import (
	"context"

	"github.com/resetbot/resetbot/core/engine"
)

// runner is an engine that returns before the turn's timing floor
// (core/engine.Engine.Run): the reply is then held back, not the worker.
type runner interface {
	Run(ctx context.Context, t engine.Turn) engine.Reply
}

// handle runs a turn, through Run when the engine has it.
func (b *Bot) handle(ctx context.Context, t engine.Turn) engine.Reply {
	if run, ok := b.o.Engine.(runner); ok {
		return run.Run(ctx, t)
	}
	return b.o.Engine.Handle(ctx, t)
}

// later shows a reply at r.NotBefore (the turn's timing floor, which makes
// an unknown user and a wrong code answer as late as a known one) without
// holding the worker, which takes the next turn meanwhile. It returns false
// when the reply is due now and the caller shows it.
func (b *Bot) later(ctx context.Context, r engine.Reply, show func(context.Context)) bool {
	return b.hold.Later(ctx, r.NotBefore, show)
}

// drainHeld waits for the held replies within ctx; at its deadline the
// rest are abandoned (their turns committed; only the reply is lost).
func (b *Bot) drainHeld(ctx context.Context) {
	if b.hold.Drain(ctx) != nil {
		b.log.Warn("mattermost held replies abandoned at the shutdown deadline")
	}
}
