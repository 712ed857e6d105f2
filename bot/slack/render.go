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
//
// Sections and buttons are textBlock and buttonsBlock, the JSON of section
// and of slack-go's buttons without their allocations (a reply is rendered
// on every turn).
func (b *Bot) render(loc, key, state string, outs []engine.Output) ([]slack.Block, string) {
	blocks := make([]slack.Block, 0, 2*len(outs))
	var few [4]string
	texts := few[:0]
	for i, o := range outs {
		text := b.o.Messages.Text(loc, o.MessageID, false, o.Args)
		if o.Error {
			text = "⚠️ " + text
		}
		texts = append(texts, text)
		blocks = append(blocks, &textBlock{text: clip(text, 3000)})
		if a := o.Attachment; a != nil && a.Kind == attachmentLink {
			blocks = append(blocks, b.linkButton(loc, i, a.Text.Reveal()))
		}
		blocks = b.appendWidgets(blocks, loc, key, state, i, o.Expect)
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

// blockIDs and choiceActions are the block IDs of a reply's outputs and the
// action IDs of its choice buttons, formatted once.
var (
	blockIDs      = numbered("act", "", 16)
	choiceActions = numbered(actionChoice, "_", 25)
)

func numbered(prefix, sep string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = prefix + sep + strconv.Itoa(i)
	}
	return ids
}

// nth is ids[i], or prefix+sep+i beyond the table.
func nth(ids []string, prefix, sep string, i int) string {
	if i < len(ids) {
		return ids[i]
	}
	return prefix + sep + strconv.Itoa(i)
}

// appendWidgets appends what an output expects: buttons for choices, a
// button opening the password or code modal. Choices next to a field (side
// choices: "use a text message instead", "different account") are buttons
// beside it.
func (b *Bot) appendWidgets(blocks []slack.Block, loc, key, state string, i int, ex engine.Expect) []slack.Block {
	kind, label := modalKind(ex)
	n := min(len(ex.Choices), 25)
	if kind != "" {
		n = min(len(ex.Choices)+1, 25)
	}
	if n == 0 {
		return blocks
	}
	act := &buttonsBlock{id: nth(blockIDs, "act", "", i), buttons: make([]replyButton, 0, n)}
	if kind != "" {
		act.buttons = append(act.buttons, replyButton{actionID: actionOpen, label: clip(b.text(loc, label), 75),
			value: b.sign(purposeOpen, key, state, kind), style: slack.StylePrimary})
	}
	for n, c := range ex.Choices {
		if len(act.buttons) == 25 {
			break
		}
		act.buttons = append(act.buttons, replyButton{actionID: nth(choiceActions, actionChoice, "_", n),
			label: clip(b.text(loc, c.MessageID), 75), value: b.sign(purposeChoice, key, state, c.ID)})
	}
	blocks = append(blocks, act)
	if kind == kindCode {
		blocks = append(blocks, slack.NewContextBlock("", slack.NewTextBlockObject(slack.PlainTextType,
			b.text(loc, "slack.code_hint"), false, false)))
	}
	return blocks
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
