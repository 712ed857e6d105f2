package mattermost

import (
	"context"
	"strconv"
	"strings"

	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/enrollpage"
	"github.com/resetbot/resetbot/core/token"
)

// Dialog kinds, carried in open-button and dialog tokens.
const (
	kindCode          = "code"
	kindSecret        = "secret"
	kindSecretConfirm = "secret2"
	kindAnswer        = "answer"
)

// Context keys of a button: k says which kind of token t is.
const (
	ctxKind   = "k"
	ctxToken  = "t"
	kindClick = "c"
	kindOpen  = "o"
)

// attachmentLink is the kind of an enrollment page link output.
const attachmentLink = "link"

// userKey binds tokens to the person and the DM they were shown in:
// Mattermost IDs are 26 base32 characters, so ':' cannot be forged in.
func userKey(user, channel string) string { return user + ":" + channel }

// dialogKind is the dialog a prompt needs, and the label of the button
// that opens it, or "" when it needs none (choices, free text, the end).
func dialogKind(ex engine.Expect) (kind, label string) {
	switch ex.Kind {
	case engine.ExpectSecret:
		switch {
		case ex.Confirm:
			return kindSecretConfirm, msgButtonPassword
		case ex.FieldID == "questions.field":
			return kindAnswer, msgButtonAnswer
		}
		return kindSecret, msgButtonPassword
	case engine.ExpectDigits:
		return kindCode, msgButtonCode
	}
	return "", ""
}

func (b *Bot) sign(purpose, key, step, value string) string {
	return b.tokens.Sign(token.Claims{Purpose: purpose, User: key, State: step, Value: value,
		Expires: b.now().Add(b.o.Config.TokenTTL)})
}

// button is an action whose click the server POSTs to our action route
// with the signed token in its context.
func (b *Bot) button(id, label, kind, tok string) action {
	return action{ID: id, Name: clip(label, 60), Type: "button",
		Integration: integration{URL: b.callback + PathAction, Context: map[string]any{ctxKind: kind, ctxToken: tok}}}
}

// render turns outputs into one post: the texts as its (escaped) message,
// and per output that expects input an attachment with its buttons. Every
// button's token is bound to the user, the DM and the step the reply
// leaves the session in.
func (b *Bot) render(loc, key, step string, outs []engine.Output) post {
	var texts []string
	var atts []attachment
	for i, o := range outs {
		text := b.text(loc, o.MessageID, o.Args)
		if o.Error {
			text = "⚠️ " + text
		}
		texts = append(texts, escape(text))
		if a := o.Attachment; a != nil && a.Kind == attachmentLink {
			// Our own one-time page URL; the label is escaped, the URL is ours.
			atts = append(atts, attachment{Text: "[" + escape(b.text(loc, msgOpenSetup, nil)) + "](" + a.Text.Reveal() + ")"})
		}
		if acts := b.actions(loc, key, step, i, o.Expect); len(acts) > 0 {
			atts = append(atts, attachment{Actions: acts})
		}
	}
	props := map[string]any{"disable_group_highlight": true}
	if len(atts) > 0 {
		props["attachments"] = atts
	}
	return post{Message: strings.Join(texts, "\n\n"), Props: props}
}

// actions are an output's buttons: one opening the masked dialog its input
// needs, and its choices (side choices beside the field included).
func (b *Bot) actions(loc, key, step string, i int, ex engine.Expect) []action {
	var acts []action
	if kind, label := dialogKind(ex); kind != "" {
		a := b.button("open"+strconv.Itoa(i), b.text(loc, label, nil), kindOpen, b.sign(purposeOpen, key, step, kind))
		a.Style = "primary"
		acts = append(acts, a)
	}
	for n, c := range ex.Choices {
		if n == 20 {
			break
		}
		// The label's message ID rides in the signed value, so the clicked
		// post can be marked with the choice without trusting the request.
		acts = append(acts, b.button("c"+strconv.Itoa(i)+"x"+strconv.Itoa(n), b.text(loc, c.MessageID, nil),
			kindClick, b.sign(purposeChoice, key, step, c.ID+" "+c.MessageID)))
	}
	return acts
}

// Pages issues and revokes one-time enrollment pages (core/enrollpage).
type Pages interface {
	Issue(ctx context.Context, g enrollpage.Grant) (enrollpage.Link, error)
	Revoke(ctx context.Context, conversation string) error
}

// pageLink turns an enrollment (QR code and setup key) into a one-time
// link to resetbot's page: the seed never enters Mattermost. Without pages
// the enrollment is not shown at all.
func (b *Bot) pageLink(ctx context.Context, user, ref, loc string, o engine.Output) engine.Output {
	failed := engine.Output{MessageID: "enroll.totp.link_failed", Args: map[string]string{"ref": ref}, Error: true}
	if b.o.Pages == nil {
		b.log.Error("mattermost enrollment page unavailable", "ref", ref)
		return failed
	}
	a := o.Attachment
	l, err := b.o.Pages.Issue(ctx, enrollpage.Grant{Conversation: Name + ":" + user, Channel: Name, Platform: "Mattermost",
		Locale: loc, PNG: a.PNG, Key: a.Text})
	if err != nil {
		b.log.Error("mattermost enrollment page not issued", "ref", ref, "err", err)
		return failed
	}
	out := engine.Output{MessageID: "enroll.totp.link", Sensitive: true, Expect: o.Expect}
	out.Attachment = &engine.Attachment{Kind: attachmentLink, Text: l.URL}
	return out
}
