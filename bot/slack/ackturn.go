package slack

import (
	"context"
	"fmt"
	"time"
)

// Events run before Slack is acknowledged. Slack never redelivers an event
// it was told "ok" for, so an ack followed by a crash, a shutdown or a store
// failure would lose the turn. An event is therefore acknowledged only once
// its turn is committed and its reply posted, within AckBudget; otherwise it
// is answered 503 (Events API) or left unacknowledged (Socket Mode), and
// Slack's redelivery finds the turn done (its stored reply is posted unless
// it already was), running elsewhere (503 again), or not started (it runs).
//
// What the user sees at each crash point:
//   - before acquire, or during the step: nothing was committed; the claim
//     lapses with the lease (5 s) and a redelivery runs the turn once.
//   - after commit, before the post mark: the redelivery posts the stored
//     reply.
//   - after the post mark, before the post: the reply is lost (the window is
//     one chat.postMessage call); the user's next message continues the
//     conversation from the committed state.
//   - after the post, before the ack: the redelivery finds the mark and only
//     acknowledges.

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

// startMargin is kept between the last moment a turn may start (its acquire
// step) and the end of the ack budget, for the step, the commit and the post.
const startMargin = 500 * time.Millisecond

// postedKeep is how long the mark that a delivery's reply was posted is
// kept: longer than the engine keeps the reply for redeliveries.
const postedKeep = 15 * time.Minute

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
	if dl, ok := ctx.Deadline(); ok {
		j.startBy = dl.Add(-startMargin)
	}
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
	first, err := b.markPosted(ctx, j.delivery)
	switch {
	case err != nil:
		// The store failed after the commit: the redelivery posts the
		// stored reply.
		b.log.Warn("slack post mark failed; Slack will redeliver", "err", err)
		j.tell(verdictRetry)
		return
	case !first:
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

// markPosted claims the posting of a delivery's reply: first is false when
// another delivery of the same event posted it (or is posting it).
func (b *Bot) markPosted(ctx context.Context, delivery string) (first bool, err error) {
	_, err = b.o.Store.CompareAndSwap(ctx, "slack:posted:"+delivery, 0, []byte{1}, postedKeep)
	switch {
	case err == nil:
		return true, nil
	case errorsIsConflict(err):
		return false, nil
	}
	return false, err
}

// beforeAck reports whether a job runs before its ack (runBeforeAck).
func (j job) beforeAck() bool { return j.verdict != nil }
