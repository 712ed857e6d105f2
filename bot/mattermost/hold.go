package mattermost

import (
	"context"
	"time"

	"github.com/resetbot/resetbot/core/engine"
)

// runner is an engine that returns before the turn's timing floor
// (core/engine.Engine.Run): the reply is then held back, not the worker.
type runner interface {
	Run(ctx context.Context, t engine.Turn) engine.Reply
}

// holdSlots bounds the replies held back for their timing floor at once;
// beyond it a worker waits the floor out itself, as with Handle.
const holdSlots = 1024

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
	wait := r.NotBefore.Sub(b.now())
	if r.NotBefore.IsZero() || wait <= 0 {
		return false
	}
	select {
	case b.holdSlots <- struct{}{}:
	default:
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		return false
	}
	b.held.Add(1)
	go func() {
		defer b.held.Done()
		defer func() { <-b.holdSlots }()
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-b.abandon:
			return
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		show(sctx)
	}()
	return true
}

// drainHeld waits for the held replies within ctx; at its deadline the
// rest are abandoned (their turns committed; only the reply is lost).
func (b *Bot) drainHeld(ctx context.Context) {
	done := make(chan struct{})
	go func() { b.held.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		close(b.abandon)
		b.log.Warn("mattermost held replies abandoned at the shutdown deadline")
		<-done
	}
}
