package slack

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/token"
)

// Interaction identifiers of our own buttons and modal.
const (
	actionChoice  = "rb_choice"
	actionOpen    = "rb_open"
	callbackModal = "rb_modal"
	blockInput    = "in1"
	blockConfirm  = "in2"
	elementValue  = "v"
)

// onInteraction handles block_actions and view_submission. resp is the ack
// body; after runs once the ack is sent (views.open must use the trigger
// within 3 s, but after the ack).
func (b *Bot) onInteraction(ctx context.Context, ic slack.InteractionCallback) (resp any, after func(), err error) {
	if !b.pinned(ctx, origin{ic.Team.ID, ic.Enterprise.ID, ic.APIAppID}, "interaction") {
		return nil, nil, nil
	}
	switch ic.Type {
	case slack.InteractionTypeBlockActions:
		return b.onAction(ctx, ic)
	case slack.InteractionTypeViewSubmission:
		resp, err := b.onSubmit(ctx, ic)
		return resp, nil, err
	case slack.InteractionTypeMessageAction, slack.InteractionTypeShortcut:
		return nil, nil, b.onShortcut(ctx, ic)
	}
	return nil, nil, nil
}

// deliveryOf names an interaction for deduplication: Slack gives every
// click and submission its own trigger_id, and a replay carries the same.
func deliveryOf(prefix string, ic slack.InteractionCallback) string {
	if ic.TriggerID != "" {
		return prefix + ic.TriggerID
	}
	return prefix + ic.User.ID + ":" + ic.ActionTs + ":" + ic.View.ID + ":" + ic.View.Hash
}

func (b *Bot) onAction(ctx context.Context, ic slack.InteractionCallback) (any, func(), error) {
	if len(ic.ActionCallback.BlockActions) == 0 || ic.ActionCallback.BlockActions[0] == nil {
		return nil, nil, nil
	}
	a := ic.ActionCallback.BlockActions[0]
	key := userKey(ic.Team.ID, ic.User.ID)
	switch {
	case strings.HasPrefix(a.ActionID, actionOutreach):
		return b.onOutreach(ctx, ic, a)
	case strings.HasPrefix(a.ActionID, actionChoice):
		c, err := b.o.Tokens.Verify(a.Value, purposeChoice, key)
		if err != nil {
			return nil, b.refuse(ctx, ic, err), nil
		}
		j := job{team: ic.Team.ID, user: ic.User.ID, channel: ic.Channel.ID, delivery: deliveryOf("a:", ic),
			input:   engine.Input{Kind: engine.InputChoice, Choice: c.Value, State: c.State},
			trigger: ic.TriggerID, triggerAt: b.now(),
			clicked: &clickedMessage{channel: ic.Channel.ID, ts: ic.Container.MessageTs, msg: ic.Message, label: a.Text.Text}}
		if ic.View.ID != "" && ic.View.Type == slack.VTModal {
			// A side choice inside a modal: no chat message to consume.
			j.view, j.clicked, j.channel = ic.View.ID, nil, ""
		}
		// Acknowledged once the turn is committed and its reply posted
		// (runBeforeAck); otherwise 503, and Slack shows the person that
		// the click failed.
		return nil, nil, b.runBeforeAck(ctx, j)
	case strings.HasPrefix(a.ActionID, actionHome):
		if !homeFlow(a.Value) {
			return nil, nil, nil
		}
		return nil, nil, b.startFrom(ctx, ic, a.Value, "h:")
	case a.ActionID == actionOpen:
		c, err := b.o.Tokens.Verify(a.Value, purposeOpen, key)
		if err != nil {
			return nil, b.refuse(ctx, ic, err), nil
		}
		if !b.claim(ctx, deliveryOf("o:", ic)) {
			return nil, nil, nil
		}
		view := b.modal(b.locale(ic.User.ID), key, c.State, c.Value, nil)
		return nil, func() {
			ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			if _, err := b.api.OpenViewContext(ctx, ic.TriggerID, view); err != nil {
				b.log.Warn("slack views.open failed", "err", err)
			}
		}, nil
	}
	return nil, nil, nil
}

// refuse logs a refused token and tells the clicker, privately, after the ack.
func (b *Bot) refuse(ctx context.Context, ic slack.InteractionCallback, err error) func() {
	b.log.Info("slack token refused", "reason", err.Error(), "user", ic.User.ID)
	if ic.Channel.ID == "" {
		return nil
	}
	return func() {
		msg := b.text(b.locale(ic.User.ID), "chat.refused")
		if _, err := b.api.PostEphemeralContext(ctx, ic.Channel.ID, ic.User.ID, slack.MsgOptionText(msg, false)); err != nil {
			b.log.Warn("slack ephemeral refusal failed", "err", err)
		}
	}
}

// modalInput turns a submitted modal into the engine input it stands for.
func modalInput(v slack.View, c token.Claims) engine.Input {
	get := func(block string) string {
		if v.State == nil {
			return ""
		}
		return v.State.Values[block][elementValue].Value
	}
	if c.Value == kindCode {
		code := strings.ReplaceAll(strings.TrimSpace(get(blockInput)), " ", "")
		kind := engine.InputText
		if code != "" && strings.Trim(code, "0123456789") == "" {
			kind = engine.InputDigits
		}
		return engine.Input{Kind: kind, Value: secret.New(code), State: c.State}
	}
	// Passwords are passed exactly as typed: no trimming.
	in := engine.Input{Kind: engine.InputSecret, Value: secret.New(get(blockInput)), State: c.State}
	if c.Value == kindSecretConfirm {
		in.Confirm = secret.New(get(blockConfirm))
	}
	return in
}

// waiter hands a submission's finished turn back to the ack path when it
// comes in time; a submission not answered in time is answered 503.
type waiter struct {
	mu     sync.Mutex
	gaveUp bool
	// shown: ok is the turn's (false: nothing to show, such as a guest);
	// failed means it did not commit, or its reply could not be posted.
	reply  *engine.Reply
	loc    string
	failed bool
	done   chan struct{}
}

// inModal says whether the reply refuses the modal's input while the session
// is still on the modal's step: then it is shown inside the modal.
func inModal(r engine.Reply, state string) bool {
	if r.Ended || r.Duplicate || r.State != engine.StepState(state) {
		return false
	}
	for _, o := range r.Outputs {
		if o.Error {
			return true
		}
	}
	return false
}

func (b *Bot) onSubmit(ctx context.Context, ic slack.InteractionCallback) (any, error) {
	if ic.View.CallbackID != callbackModal {
		return nil, nil
	}
	key := userKey(ic.Team.ID, ic.User.ID)
	c, err := b.o.Tokens.Verify(ic.View.PrivateMetadata, purposeModal, key)
	if err != nil {
		// A form of another user or session, altered or expired: nothing acts.
		b.log.Info("slack modal refused", "reason", err.Error(), "user", ic.User.ID)
		return slack.NewErrorsViewSubmissionResponse(map[string]string{
			blockInput: b.text(b.locale(ic.User.ID), "chat.refused")}), nil
	}
	j := job{team: ic.Team.ID, user: ic.User.ID, delivery: deliveryOf("v:", ic), input: modalInput(ic.View, c)}
	w := &waiter{done: make(chan struct{})}
	if err := b.queue(func(ctx context.Context) { b.runSubmit(ctx, j, c.State, w) }); err != nil {
		return nil, err
	}
	t := time.NewTimer(b.o.SubmitWait)
	defer t.Stop()
	select {
	case <-w.done:
	case <-t.C:
	case <-ctx.Done():
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case <-w.done:
	default:
		// Not committed in time: 503 keeps the modal open, with what was
		// typed, and Slack shows the person an error.
		w.gaveUp = true
		b.log.Warn("slack modal turn not finished in time; answered 503", "wait", b.o.SubmitWait)
		return nil, errNotYet
	}
	switch {
	case w.failed:
		return nil, errNotYet
	case w.reply == nil:
		return slack.NewClearViewSubmissionResponse(), nil
	}
	if !inModal(*w.reply, c.State) {
		// The next prompt is masked input again (the second factor's
		// code, the new password): it replaces this form, so each factor
		// costs one submission. Anything else closes the form; the reply
		// is in the DM either way.
		if v, ok := b.nextModal(*w.reply, w.loc, key); ok {
			return slack.NewUpdateViewSubmissionResponse(&v), nil
		}
		return slack.NewClearViewSubmissionResponse(), nil
	}
	var msgs []string
	for _, o := range w.reply.Outputs {
		if o.Error {
			msgs = append(msgs, b.o.Messages.Text(w.loc, o.MessageID, false, o.Args))
		}
	}
	return slack.NewErrorsViewSubmissionResponse(map[string]string{blockInput: strings.Join(msgs, " ")}), nil
}

// runSubmit is the queued turn of a modal submission.
func (b *Bot) runSubmit(ctx context.Context, j job, state string, w *waiter) {
	r, loc, ok := b.turn(ctx, j)
	finish := func(ctx context.Context) { b.finishSubmit(ctx, j, state, w, r, loc, ok) }
	if ok && b.later(ctx, r, finish) {
		return
	}
	finish(ctx)
}

// finishSubmit answers a submission from its committed turn: a refusal of
// what was typed goes back into the modal (response_action errors); any
// other reply is posted in the DM before the modal is cleared, so the ack
// follows the commit and the post. A turn that did not commit (r.Retry)
// posts nothing: the submission is answered 503 and can be sent again.
func (b *Bot) finishSubmit(ctx context.Context, j job, state string, w *waiter, r engine.Reply, loc string, ok bool) {
	w.mu.Lock()
	late := w.gaveUp
	w.mu.Unlock()
	failed := ok && r.Retry
	if ok && !failed && !r.Duplicate && (late || !inModal(r, state)) {
		if err := b.deliver(ctx, j, r, loc); err != nil {
			b.replyFailed(ctx, j, "lost")
			failed = true
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.gaveUp {
		return
	}
	if ok {
		w.reply, w.loc = &r, loc
	}
	w.failed = failed
	close(w.done)
}

// clickedMessage is a bot message whose choice button was used.
type clickedMessage struct {
	channel, ts, label string
	msg                slack.Message
}

// consume replaces the buttons of a clicked message by the chosen label, so
// the conversation reads clearly and old buttons are not clicked again (a
// stale click would be refused anyway).
func (b *Bot) consume(ctx context.Context, m *clickedMessage) {
	if m == nil || m.ts == "" || m.channel == "" {
		return
	}
	var kept []slack.Block
	for _, bl := range m.msg.Blocks.BlockSet {
		if bl.BlockType() != slack.MBTAction {
			kept = append(kept, bl)
		}
	}
	kept = append(kept, slack.NewContextBlock("", slack.NewTextBlockObject(slack.PlainTextType, "✓ "+clip(m.label, 150), false, false)))
	if _, _, _, err := b.api.UpdateMessageContext(ctx, m.channel, m.ts, slack.MsgOptionBlocks(kept...),
		slack.MsgOptionText(m.msg.Text, false)); err != nil {
		b.log.Warn("slack chat.update failed", "err", err)
	}
}
