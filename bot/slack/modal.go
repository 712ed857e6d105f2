package slack

import (
	"context"
	"time"

	"github.com/slack-go/slack"

	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/token"
)

// triggerWindow is how long after a click, command or shortcut its
// trigger_id may still open a modal: Slack allows 3 s; the rest is margin
// for the views.open call itself.
const triggerWindow = 2500 * time.Millisecond

// modalKind is the modal a prompt needs and the label of the button that
// opens it, or "" when it needs none (choices, free text, the end).
func modalKind(ex engine.Expect) (kind, label string) {
	switch ex.Kind {
	case engine.ExpectSecret:
		switch {
		case ex.Confirm:
			return kindSecretConfirm, "chat.button.password"
		case ex.FieldID == "questions.field":
			return kindAnswer, "chat.button.answer"
		}
		return kindSecret, "chat.button.password"
	case engine.ExpectDigits:
		return kindCode, "chat.button.code"
	}
	return "", ""
}

// modal builds the secure entry form for state: intro texts (the prompt
// that asks for the input, when the modal opens without a button), then
// one input, or two for a new password and its confirmation. Block Kit has
// no masked input: the modal keeps the value out of the chat history, and
// its hint says that Slack shows what is typed.
func (b *Bot) modal(loc, key, state, kind string, intro []string, side ...engine.Choice) slack.ModalViewRequest {
	pt := func(id string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.PlainTextType, clip(b.text(loc, id), 150), false, false)
	}
	input := func(block, label string, max int, hint bool) slack.Block {
		el := slack.NewPlainTextInputBlockElement(nil, elementValue)
		el.MaxLength = max
		ib := slack.NewInputBlock(block, pt(label), nil, el)
		if hint {
			ib.Hint = pt("slack.modal.hint")
		}
		return ib
	}
	var blocks []slack.Block
	for _, t := range intro {
		blocks = append(blocks, section(t))
	}
	title := "chat.form.code_title"
	switch kind {
	case kindCode:
		blocks = append(blocks, input(blockInput, "chat.form.code_label", 16, false))
	case kindAnswer:
		title = "chat.form.answer_title"
		blocks = append(blocks, input(blockInput, "questions.field", 256, true))
	default:
		title = "chat.form.password_title"
		blocks = append(blocks, input(blockInput, "password.field", 1024, kind != kindSecretConfirm))
		if kind == kindSecretConfirm {
			blocks = append(blocks, input(blockConfirm, "chat.form.confirm_label", 1024, true))
		}
	}
	if els := b.choiceButtons(loc, key, state, side, 25); len(els) > 0 {
		// Side choices ("use a text message instead") work from the
		// modal too: a click updates it (onModalChoice).
		blocks = append(blocks, slack.NewActionBlock("side", els...))
	}
	meta := b.o.Tokens.Sign(token.Claims{Purpose: purposeModal, User: key, State: state, Value: kind,
		Expires: b.now().Add(b.o.TokenTTL)})
	return slack.ModalViewRequest{Type: slack.VTModal, CallbackID: callbackModal, PrivateMetadata: meta,
		Title:  slack.NewTextBlockObject(slack.PlainTextType, clip(b.text(loc, title), 24), false, false),
		Submit: pt("chat.form.submit"), Close: pt("slack.modal.cancel"), ClearOnClose: true,
		Blocks: slack.Blocks{BlockSet: blocks}}
}

// nextModal is the modal for a reply whose next prompt is masked input (a
// code, a password, an answer), with the reply's texts above the input; ok
// is false for any other reply, and for one that shows an image or a link
// (an enrollment), which belongs in the DM.
func (b *Bot) nextModal(r engine.Reply, loc, key string) (slack.ModalViewRequest, bool) {
	if r.Ended || r.Duplicate || r.Retry || len(r.Outputs) == 0 {
		return slack.ModalViewRequest{}, false
	}
	kind, _ := modalKind(r.Last().Expect)
	if kind == "" {
		return slack.ModalViewRequest{}, false
	}
	intro := make([]string, 0, len(r.Outputs))
	for _, o := range r.Outputs {
		if o.Attachment != nil {
			return slack.ModalViewRequest{}, false
		}
		text := b.o.Messages.Text(loc, o.MessageID, false, o.Args)
		if o.Error {
			text = "⚠️ " + text
		}
		intro = append(intro, text)
	}
	return b.modal(loc, key, r.Step, kind, intro, r.Last().Expect.Choices...), true
}

// openNext opens the modal for the reply's masked prompt with the trigger
// of the action that started the turn (a slash command, a shortcut, an App
// Home or choice button), so the person types the code or password at once
// instead of clicking "Enter code" first. Too late for the trigger, or no
// masked prompt: nothing happens, and the DM's button opens the form.
func (b *Bot) openNext(ctx context.Context, j job, r engine.Reply, loc string) {
	if j.view != "" {
		b.updateModal(ctx, j, r, loc)
		return
	}
	if j.trigger == "" || b.now().Sub(j.triggerAt) > triggerWindow {
		return
	}
	v, ok := b.nextModal(r, loc, userKey(j.team, j.user))
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if _, err := b.api.OpenViewContext(ctx, j.trigger, v); err != nil {
		b.log.Warn("slack views.open failed; the DM button opens the form", "err", err)
	}
}

// updateModal follows a side choice clicked inside a modal: the modal shows
// the next masked prompt (the text message's code instead of the
// authenticator's), or, when the next step is not typed in a form, the
// reply's texts with only a Close button; the reply is in the DM as well.
func (b *Bot) updateModal(ctx context.Context, j job, r engine.Reply, loc string) {
	if r.Duplicate {
		return
	}
	v, ok := b.nextModal(r, loc, userKey(j.team, j.user))
	if !ok {
		var blocks []slack.Block
		for _, o := range r.Outputs {
			blocks = append(blocks, section(b.o.Messages.Text(loc, o.MessageID, false, o.Args)))
		}
		blocks = append(blocks, section(b.text(loc, "slack.moved_to_dm")))
		v = slack.ModalViewRequest{Type: slack.VTModal, CallbackID: callbackModal, ClearOnClose: true,
			Title:  slack.NewTextBlockObject(slack.PlainTextType, clip(b.text(loc, "chat.form.code_title"), 24), false, false),
			Close:  slack.NewTextBlockObject(slack.PlainTextType, clip(b.text(loc, "slack.modal.cancel"), 24), false, false),
			Blocks: slack.Blocks{BlockSet: blocks}}
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if _, err := b.api.UpdateViewContext(ctx, v, "", "", j.view); err != nil {
		b.log.Warn("slack views.update failed; the reply is in the DM", "err", err)
	}
}
