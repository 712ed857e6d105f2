package slack

import (
	"context"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/token"
)

// stateEnrollTOTP is the flow state in which the enrollment QR is shown,
// and flowEnroll (flows.FlowEnroll) the flow it belongs to.
const (
	stateEnrollTOTP = "enroll_totp"
	flowEnroll      = "enroll"
)

func (b *Bot) hasQR(key string) bool {
	_, ok := b.qrs.Load(key)
	return ok
}

// clip shortens s to at most n runes (Block Kit field limits).
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// section is a plain-text section: catalog texts carry no markup, and plain
// text cannot be turned into mentions or links by its arguments.
func section(text string) slack.Block {
	return slack.NewSectionBlock(slack.NewTextBlockObject(slack.PlainTextType, clip(text, 3000), true, false), nil, nil)
}

// render turns outputs into blocks and a notification fallback text. Widgets
// follow the output's Expect; every button value is a signed token bound to
// the user and the state the reply leaves the session in.
func (b *Bot) render(loc, key, state string, outs []engine.Output) ([]slack.Block, string) {
	var blocks []slack.Block
	var texts []string
	for i, o := range outs {
		text := b.o.Messages.Text(loc, o.MessageID, false, o.Args)
		if o.Error {
			text = "⚠️ " + text
		}
		texts = append(texts, text)
		blocks = append(blocks, section(text))
		if a := o.Attachment; a != nil && a.Kind == attachmentLink {
			blocks = append(blocks, b.linkButton(loc, i, a.Text.Reveal()))
		}
		if w := b.widgets(loc, key, state, i, o.Expect); w != nil {
			blocks = append(blocks, w...)
		}
	}
	return blocks, strings.Join(texts, "\n")
}

func (b *Bot) sign(purpose, key, state, value string) string {
	return b.o.Tokens.Sign(token.Claims{Purpose: purpose, User: key, State: state, Value: value,
		Expires: b.now().Add(b.o.TokenTTL)})
}

func (b *Bot) button(loc, actionID, label, value string) *slack.ButtonBlockElement {
	return slack.NewButtonBlockElement(actionID, value,
		slack.NewTextBlockObject(slack.PlainTextType, clip(b.text(loc, label), 75), true, false))
}

// widgets renders what an output expects: buttons for choices, a button
// opening the password or code modal. Choices next to a field (side
// choices: "use a text message instead", "different account") are buttons
// beside it.
func (b *Bot) widgets(loc, key, state string, i int, ex engine.Expect) []slack.Block {
	blockID := "act" + strconv.Itoa(i)
	var els []slack.BlockElement
	var extra []slack.Block
	if kind, label := modalKind(ex); kind != "" {
		btn := b.button(loc, actionOpen, label, b.sign(purposeOpen, key, state, kind))
		btn.Style = slack.StylePrimary
		els = append(els, btn)
		if kind == kindCode {
			extra = append(extra, slack.NewContextBlock("", slack.NewTextBlockObject(slack.PlainTextType,
				b.text(loc, "slack.code_hint"), false, false)))
		}
	}
	els = append(els, b.choiceButtons(loc, key, state, ex.Choices, 25-len(els))...)
	if len(els) == 0 {
		return nil
	}
	return append([]slack.Block{slack.NewActionBlock(blockID, els...)}, extra...)
}

// choiceButtons are signed buttons for choices, at most max (Block Kit
// allows 25 elements per actions block).
func (b *Bot) choiceButtons(loc, key, state string, choices []engine.Choice, max int) []slack.BlockElement {
	var els []slack.BlockElement
	for n, c := range choices {
		if n == max {
			break
		}
		els = append(els, b.button(loc, actionChoice+"_"+strconv.Itoa(n), c.MessageID,
			b.sign(purposeChoice, key, state, c.ID)))
	}
	return els
}

// channel is where a job's replies go: its channel, else the user's DM.
func (b *Bot) channel(ctx context.Context, j job) (string, error) {
	if j.channel != "" {
		return j.channel, nil
	}
	return b.dm(ctx, j.user)
}
