package teams

import (
	"context"
	"net/http"
	"time"
)

// TurnWait bounds how long the request of a person's message waits for its
// turn before the Bot Framework is answered. Teams gives a bot 15 s and then
// delivers the activity again (documented: "Bot activity handlers"); it also
// retries "certain failure HTTP status codes" (a Teams engineer in
// MicrosoftDocs/msteams-docs#8998; which ones and how often is not
// documented, so 503 with Retry-After is used, the answer the Bot Framework
// SDKs themselves treat as transient).
const TurnWait = 10 * time.Second

// answerAfterTurn runs a message's turn on the worker pool and answers the
// Bot Framework once it is over: 200 when the turn committed and its reply
// went out (or there was nothing to do), 503 with Retry-After when it did
// not commit (a busy conversation, the store unavailable, a failover:
// engine Reply.Retry) or did not finish within TurnWait. The Connector then
// delivers the activity again, and the engine runs it once: a redelivery of
// a turn that did finish is answered from its recorded reply and shows
// nothing twice. Before, the activity was acknowledged at once and a busy
// or store-down turn showed the catalogued error: the input was dropped.
// A full pool answers 503 at once, as before.
//
// A reply held back for its timing floor (pending) is shown off the worker
// (later), and the Bot Framework is answered once it is: the worker is free
// for the next activity meanwhile.
func (b *Bot) answerAfterTurn(w http.ResponseWriter, r *http.Request, turn func(ctx context.Context) (bool, pending)) {
	done := make(chan bool, 1)
	job := func(ctx context.Context) {
		ok, p := turn(ctx)
		if p.show == nil {
			done <- ok
			return
		}
		b.later(ctx, p.at, func(ctx context.Context) { p.show(ctx); done <- ok })
	}
	if err := b.pool.Submit(job); err != nil {
		b.log.Warn("teams: worker pool refused the activity", "err", err)
		retryLater(w)
		return
	}
	t := time.NewTimer(b.turnWait)
	defer t.Stop()
	select {
	case ok := <-done:
		if ok {
			w.WriteHeader(http.StatusOK)
			return
		}
		b.log.Info("teams: turn not committed; asking the Bot Framework to deliver the activity again")
	case <-t.C:
		b.log.Warn("teams: turn not finished in time; asking the Bot Framework to deliver the activity again", "wait", b.turnWait)
	case <-r.Context().Done():
		return
	}
	retryLater(w)
}

// retryLater is the answer that makes the Bot Framework deliver again.
func retryLater(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "2")
	http.Error(w, "busy", http.StatusServiceUnavailable)
}

// pending is what a turn leaves to do once its timing floor has passed:
// show its reply, no sooner than at (engine Reply.NotBefore). A zero pending
// has nothing left to do.
type pending struct {
	at   time.Time
	show func(ctx context.Context)
}

// heldSendTimeout bounds showing a held reply (the connector calls).
const heldSendTimeout = 30 * time.Second

// later runs show at at (a turn's timing floor, which makes an unknown user
// and a wrong code answer as late as a known one) without holding the
// worker: the floor of 300 ms inside a worker capped a replica at
// workers/0.3 login turns a second whatever its CPU. A reply due now is
// shown at once, on the caller's goroutine.
func (b *Bot) later(ctx context.Context, at time.Time, show func(ctx context.Context)) {
	if !b.hold.Later(ctx, at, show) {
		show(ctx)
	}
}

// waitHeld waits, within ctx, for the replies held back for their timing
// floor to be shown (shutdown).
func (b *Bot) waitHeld(ctx context.Context) error {
	err := b.hold.Drain(ctx)
	if err != nil {
		b.log.Warn("teams: held replies abandoned at the shutdown deadline")
	}
	return err
}
