package teams

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/resetbot/resetbot/core/dispatch"
	"github.com/resetbot/resetbot/core/engine"
)

// Invoke response types (AdaptiveCardInvokeResponse).
const (
	invokeTypeCard    = "application/vnd.microsoft.card.adaptive"
	invokeTypeMessage = "application/vnd.microsoft.activity.message"
)

// invokeResult is what a card action produced.
type invokeResult struct {
	reply   engine.Reply
	refused bool
}

// invokeWait passes an invoke's result from the worker to the waiting HTTP
// handler, or, when the handler already answered "working on it", tells the
// worker to deliver through the connector instead.
type invokeWait struct {
	mu        sync.Mutex
	ch        chan invokeResult
	abandoned bool
}

// give hands res to the handler; false means the handler has given up.
func (h *invokeWait) give(res invokeResult) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.abandoned {
		return false
	}
	h.ch <- res // buffered, written once
	return true
}

// abandon stops waiting; false means a result is already there.
func (h *invokeWait) abandon() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.ch) > 0 {
		return false
	}
	h.abandoned = true
	return true
}

// invoke answers an adaptiveCard/action (Action.Execute). Teams wants the
// answer in the HTTP body within seconds, so the handler waits for the
// worker (the pool still bounds concurrency) up to InvokeWait; the answer is
// the refreshed card, which replaces the clicked one. When the turn is
// slower, the body says "working on it" and the worker updates the card
// through the connector when it finishes.
func (b *Bot) invoke(w http.ResponseWriter, r *http.Request, act *inbound) {
	h := &invokeWait{ch: make(chan invokeResult, 1)}
	err := b.pool.Submit(dispatch.Job(func(ctx context.Context) {
		res := b.invokeTurn(ctx, act)
		// The answer waits for the turn's timing floor off the worker.
		b.later(ctx, res.reply.NotBefore, func(ctx context.Context) { b.finishInvoke(ctx, act, h, res) })
	}))
	if err != nil {
		b.log.Warn("teams: worker pool refused the invoke", "err", err)
		b.writeInvoke(w, http.StatusServiceUnavailable, invokeTypeMessage, b.msg.Text(act.Locale, engine.MsgBusy, false, nil))
		return
	}
	timer := time.NewTimer(b.wait)
	defer timer.Stop()
	var res invokeResult
	select {
	case res = <-h.ch:
	case <-timer.C:
	case <-r.Context().Done():
	}
	if res.reply.Ref == "" && !res.refused {
		if h.abandon() {
			b.writeInvoke(w, http.StatusOK, invokeTypeMessage, b.msg.Text(act.Locale, engine.MsgBusy, false, nil))
			return
		}
		res = <-h.ch
	}
	if res.refused {
		b.writeInvoke(w, http.StatusOK, invokeTypeMessage, b.msg.Text(act.Locale, "teams.card_refused", false, nil))
		return
	}
	if res.reply.Retry {
		// The turn did not run or did not commit (the conversation held by
		// another turn, the store unavailable, a failover). A card answer
		// would replace the clicked card with a busy notice and the click
		// would be lost; a message answer leaves the card as it is, so the
		// person clicks again.
		b.writeInvoke(w, http.StatusOK, invokeTypeMessage, b.msg.Text(act.Locale, engine.MsgBusy, false, nil))
		return
	}
	b.writeInvoke(w, http.StatusOK, invokeTypeCard, b.cards.card(res.reply, act.Locale, act.From.AadObjectID, true))
}

// finishInvoke hands an invoke's result to the waiting handler, or, when the
// handler has answered "working on it", sends it through the connector.
func (b *Bot) finishInvoke(ctx context.Context, act *inbound, h *invokeWait, res invokeResult) {
	to := target{act.ServiceURL, act.Conversation.ID}
	if !res.refused && !res.reply.Duplicate {
		// The card goes back in the HTTP body, not through send: the
		// enrollment delivery is applied here too.
		res.reply = b.prepareEnroll(ctx, to, res.reply, act.Locale)
	}
	if res.reply.Duplicate || res.reply.Retry {
		// A retried invoke: answer again with the same card, act no
		// more. A turn that did not run or commit (Retry) changes no
		// card: the click is to be made again.
		h.give(res)
		return
	}
	if !res.refused && act.ReplyToID != "" {
		b.remember(ctx, to, act.ReplyToID, res.reply, act.Locale)
	}
	if !h.give(res) && !res.refused {
		b.send(ctx, to, res.reply, act.Locale, act.From.AadObjectID, act.ReplyToID)
	}
}

func (b *Bot) invokeTurn(ctx context.Context, act *inbound) invokeResult {
	in, _, err := b.input(act)
	if err != nil {
		b.log.Info("teams: card action refused (missing, forged, expired or another user's token)")
		return invokeResult{refused: true}
	}
	reply := b.run(ctx, b.turn(ctx, act, in))
	b.log.Info("teams: turn", "ref", reply.Ref, "input", in.Kind.String(), "flow", reply.Flow, "state", reply.State,
		"duplicate", reply.Duplicate, "invoke", true)
	return invokeResult{reply: reply}
}

// writeInvoke writes an InvokeResponse body. The HTTP status is 200 for
// everything Teams should show; statusCode inside the body says the same.
func (b *Bot) writeInvoke(w http.ResponseWriter, status int, typ string, value any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"statusCode": status, "type": typ, "value": value})
}
