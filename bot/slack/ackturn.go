package slack

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// Events, clicks on our choice buttons and slash commands run before Slack
// is acknowledged. Slack never redelivers a request it was told "ok" for,
// so an ack followed by a crash, a shutdown or a store failure would lose
// the turn. A request is therefore acknowledged only once its turn is
// committed and its reply posted, within AckBudget; otherwise it is
// answered 503 (Socket Mode: left unacknowledged). Slack redelivers an
// event, and the redelivery finds the turn done (acknowledged, after
// posting a reply that could not be posted the first time: repost.go),
// running elsewhere (503 again), or not started, or cut and released (it
// runs). Slack does not redeliver interactions and commands: it shows the
// person an error, and they click or type again (the turn did not act, or
// its reply is recorded as lost).
//
// What the user sees when the replica dies at each point:
//   - before acquire, or during the step: nothing was committed; a cut turn
//     drops its claim at once, a killed one's lease lapses within 5 s, and a
//     redelivery runs the turn once and posts its reply.
//   - after the commit, before the post (one chat.postMessage, or the
//     timing floor of about 300 ms): the redelivery finds the turn done and
//     acknowledges it; this reply is lost, and the user's next message
//     continues from the committed state. (Posting the recorded reply on
//     every redelivery would need the reply kept for every turn, or a
//     "posted" mark: one more store round trip per turn; see
//     docs/deadlines.md. A post that fails while the replica lives is kept.)
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

// runBeforeAck queues a request's turn and waits, at most until the ack
// budget ends, for it to be committed and its reply posted. It returns nil
// when Slack may be acknowledged, an error wrapping errBusy otherwise. The
// worker is not held past the turn: a reply held for its timing floor is
// posted from a timer, which gives the verdict.
func (b *Bot) runBeforeAck(ctx context.Context, j job) error {
	// The Events API and interactivity handlers already bound the request
	// by AckBudget (ackBudget): a second deadline would only cost a timer
	// and a context per turn.
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > AckBudget {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, AckBudget)
		defer cancel()
	}
	j.verdict, j.waiting = make(chan verdict, 1), ctx
	if err := b.queue(func(ctx context.Context) { b.runEvent(ctx, &j) }); err != nil {
		return err
	}
	select {
	case v := <-j.verdict:
		if v == verdictAck {
			return nil
		}
		return errNotYet
	case <-ctx.Done():
		if n, ok := lateTurns.note(time.Now()); ok {
			b.log.Warn("slack turns not finished within the ack budget; answered 503", "budget", AckBudget, "turns", n)
		}
		return errNotYet
	}
}

// runEvent is the queued turn of a request run before its ack. It takes the
// job the queued closure already holds rather than a copy of it (a copy
// would move to the heap, captured by show); the job is read, never
// changed, here and by a reply held for later, and its submitter does not
// change it either.
func (b *Bot) runEvent(ctx context.Context, j *job) {
	if ctx.Err() != nil {
		// Cut by shutdown before it started: the redelivery runs it.
		j.tell(verdictRetry)
		return
	}
	if j.waiting != nil && j.waiting.Err() != nil {
		// Queued past the ack budget (an overload): the request was
		// answered 503 and Slack delivers the event again. Running the
		// turn now would spend the worker on a reply nobody acknowledges
		// while fresh requests wait behind it.
		return
	}
	r, loc, ok := b.turn(ctx, *j)
	switch {
	case !ok:
		j.tell(verdictAck)
		return
	case r.Retry:
		j.tell(verdictRetry)
		return
	case r.Duplicate:
		// Done by an earlier delivery, which posted the reply, or kept it
		// for this redelivery when its post failed.
		j.tell(b.repost(ctx, *j))
		return
	}
	show := func(ctx context.Context) {
		if err := b.show(ctx, *j, r, loc); err != nil {
			if j.redelivered {
				b.keep(ctx, *j, r, loc)
			} else {
				b.replyFailed(ctx, *j, "lost")
			}
			j.tell(verdictRetry)
			return
		}
		j.tell(verdictAck)
	}
	if !b.later(ctx, r, show) {
		show(ctx)
	}
}

// beforeAck reports whether a job runs before its ack (runBeforeAck).
func (j job) beforeAck() bool { return j.verdict != nil }

// lateTurns counts the requests answered 503 at the end of the ack budget,
// for a warning at most once a second (process-wide): under an overload
// every request may end so, and a log line each would spend the CPU the
// replica is short of.
var lateTurns sampledWarning

type sampledWarning struct {
	last  atomic.Int64 // Unix ns of the last warning
	count atomic.Int64 // occurrences since
}

// note counts one occurrence; ok says to warn now, with n occurrences since
// the last warning.
func (w *sampledWarning) note(now time.Time) (n int64, ok bool) {
	w.count.Add(1)
	prev := w.last.Load()
	if now.UnixNano()-prev < int64(time.Second) || !w.last.CompareAndSwap(prev, now.UnixNano()) {
		return 0, false
	}
	return w.count.Swap(0), true
}
