package slack

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/store"
)

// A committed turn whose reply Slack did not take (chat.postMessage failed
// after post's retries) must not vanish. An event is then not acknowledged,
// so Slack redelivers it; the redelivery finds the turn done (the engine
// never runs a delivery twice) and would only be acknowledged. So the reply
// is kept in the store under the delivery, and the redelivery posts it:
// only on this failure path, so a turn that posts costs nothing more.
//
// Interactions and slash commands are never redelivered by Slack: their
// failed reply is recorded as lost (audit reply.failed, metric
// resetbot_reply_failures_total), and the non-2xx answer makes Slack show
// the person an error, so they know to try again.

// replyKeep is how long a kept reply waits for Slack's redelivery (Slack
// retries after about 1 and 5 minutes).
const replyKeep = 10 * time.Minute

// replyShowing marks a kept reply one redelivery is posting, for as long
// as a post may take; a concurrent copy of the redelivery is answered 503.
const (
	replyShowing    = "showing"
	replyShowingFor = 30 * time.Second
)

func keptKey(delivery string) string { return "slack:reply:" + delivery }

// keptReply is what is kept: the engine's reply (message IDs and their
// arguments, as the engine records for replays; attachments are never
// kept) and the language to render it in.
type keptReply struct {
	Reply  engine.Reply `json:"r"`
	Locale string       `json:"l"`
}

// keep stores r for the redelivery of j's event and audits the failure.
func (b *Bot) keep(ctx context.Context, j job, r engine.Reply, loc string) {
	body, err := json.Marshal(keptReply{Reply: r, Locale: loc})
	if err == nil {
		_, err = b.o.Store.CompareAndSwap(ctx, keptKey(j.delivery), 0, body, replyKeep)
	}
	if err != nil {
		b.log.Error("slack reply not posted and not kept for the redelivery: lost", "ref", r.Ref, "err", err)
		b.replyFailed(ctx, j, "lost")
		return
	}
	b.log.Warn("slack reply not posted; kept for Slack's redelivery", "ref", r.Ref)
	b.replyFailed(ctx, j, "kept")
}

// repost shows the reply kept for a redelivered event, if there is one,
// and returns the redelivery's verdict: acknowledge once nothing is left to
// show.
func (b *Bot) repost(ctx context.Context, j job) verdict {
	key := keptKey(j.delivery)
	rec, err := b.o.Store.Get(ctx, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return verdictAck
	case err != nil, string(rec.Value) == replyShowing:
		return verdictRetry
	}
	var k keptReply
	if err := json.Unmarshal(rec.Value, &k); err != nil {
		_ = b.o.Store.Delete(ctx, key)
		b.replyFailed(ctx, j, "lost")
		return verdictAck
	}
	v, err := b.o.Store.CompareAndSwap(ctx, key, rec.Version, []byte(replyShowing), replyShowingFor)
	if err != nil {
		return verdictRetry // another copy of the redelivery is showing it
	}
	if err := b.show(ctx, j, k.Reply, k.Locale); err != nil {
		// Back for the next redelivery.
		_, _ = b.o.Store.CompareAndSwap(ctx, key, v, rec.Value, replyKeep)
		return verdictRetry
	}
	if err := b.o.Store.Delete(ctx, key); err != nil {
		b.log.Warn("slack kept reply not deleted after its post", "err", err)
	}
	return verdictAck
}

// replyFailed audits a reply Slack did not take: reason "kept" (shown on
// the redelivery) or "lost".
func (b *Bot) replyFailed(ctx context.Context, j job, reason string) {
	if b.o.Audit == nil {
		return
	}
	if err := b.o.Audit.Write(ctx, audit.Event{Time: b.now().UTC(), Name: audit.NameReplyFailed, Channel: Channel,
		Actor: Channel + ":" + userKey(j.team, j.user), Outcome: audit.OutcomeError, Reason: reason}); err != nil {
		b.log.Error("slack audit write failed", "err", err)
	}
}
