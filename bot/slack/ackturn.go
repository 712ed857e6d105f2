package slack

import (
	"context"
	"fmt"
)

// Events run before Slack is acknowledged. Slack never redelivers an event
// it was told "ok" for, so an ack followed by a crash, a shutdown or a store
// failure would lose the turn. An event is therefore acknowledged only once
// its turn is committed and its reply posted, within AckBudget; otherwise it
// is answered 503 (Events API) or left unacknowledged (Socket Mode), and
// Slack's redelivery finds the turn done (acknowledged, nothing posted
// again), running elsewhere (503 again), or not started, or cut and
// released (it runs).
//
// What the user sees when the replica dies at each point:
//   - before acquire, or during the step: nothing was committed; a cut turn
//     drops its claim at once, a killed one's lease lapses within 5 s, and a
//     redelivery runs the turn once and posts its reply.
//   - after the commit, before the post (one chat.postMessage, or the
//     timing floor of about 300 ms): the redelivery finds the turn done and
//     acknowledges it; this reply is lost, and the user's next message
//     continues from the committed state. (Posting the recorded reply on
//     redelivery would need a "posted" mark: one more store round trip per
//     turn; see docs/deadlines.md.)
//   - after the post, before the ack: acknowledged, nothing posted twice.

// verdict is what a turn run before the ack tells the waiting request.
type verdict int

const (
	// verdictAck: the turn is done and its reply posted (or there was
	// nothing to show): acknowledge.
	verdictAck verdict = iota + 1
	// verdictRetry: nothing lasting happened, or the reply still has to be
	// posted by a redelivery: have Slack deliver again.
	verdictRetry
)

// errNotYet means the turn did not finish within the ack budget, or must be
// delivered again; the transport answers as for a full pool.
var errNotYet = fmt.Errorf("%w: turn not finished before the ack", errBusy)

// tell passes the turn's verdict to the waiting request; only the first
// counts, and a request that stopped waiting does not block the worker.
func (j job) tell(v verdict) {
	if j.verdict == nil {
		return
	}
	select {
	case j.verdict <- v:
	default:
	}
}

// runBeforeAck queues an event's turn and waits, at most until the ack
// budget ends, for it to be committed and its reply posted. It returns nil
// when Slack may be acknowledged, an error wrapping errBusy otherwise. The
// worker is not held past the turn: a reply held for its timing floor is
// posted from a timer, which gives the verdict.
func (b *Bot) runBeforeAck(ctx context.Context, j job) error {
	ctx, cancel := context.WithTimeout(ctx, AckBudget)
	defer cancel()
	j.verdict = make(chan verdict, 1)
	if err := b.queue(func(ctx context.Context) { b.runEvent(ctx, j) }); err != nil {
		return err
	}
	select {
	case v := <-j.verdict:
		if v == verdictAck {
			return nil
		}
		return errNotYet
	case <-ctx.Done():
		b.log.Warn("slack turn not finished within the ack budget; Slack will redeliver", "budget", AckBudget)
		return errNotYet
	}
}

// runEvent is the queued turn of an event run before its ack.
func (b *Bot) runEvent(ctx context.Context, j job) {
	if ctx.Err() != nil {
		// Cut by shutdown before it started: the redelivery runs it.
		j.tell(verdictRetry)
		return
	}
	r, loc, ok := b.turn(ctx, j)
	switch {
	case !ok:
		j.tell(verdictAck)
		return
	case r.Retry:
		j.tell(verdictRetry)
		return
	}
	if r.Duplicate {
		// Done by an earlier delivery of the event, which posted the reply.
		j.tell(verdictAck)
		return
	}
	show := func(ctx context.Context) {
		b.show(ctx, j, r, loc)
		j.tell(verdictAck)
	}
	if !b.later(ctx, r, show) {
		show(ctx)
	}
}

// beforeAck reports whether a job runs before its ack (runBeforeAck).
func (j job) beforeAck() bool { return j.verdict != nil }
