package slack

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/outreach"
	"github.com/resetbot/resetbot/core/token"
)

// actionOutreach prefixes the action IDs of notice buttons; purposeOutreach
// is their token purpose, so a notice button can never act as a flow
// choice and the reverse.
const (
	actionOutreach  = "rb_out_"
	purposeOutreach = "slack.outreach"
	// noticeTTL is how long a notice's buttons verify (the Answerer's
	// record decides as well).
	noticeTTL = 24 * time.Hour
)

// outreachState is the Bot's part of outreach: who answers clicks.
type outreachState struct {
	answerer outreach.LateAnswerer
}

// Outreach returns the bot's outreach.DirectMessenger, and makes answers
// go to a (nil: clicks on notices are answered "expired").
func (b *Bot) Outreach(a outreach.Answerer) outreach.DirectMessenger {
	b.out.answerer.Set(a)
	return &messenger{b: b}
}

// messenger implements outreach.DirectMessenger for Slack.
type messenger struct{ b *Bot }

var _ outreach.DirectMessenger = (*messenger)(nil)

// Channel implements outreach.DirectMessenger.
func (m *messenger) Channel() string { return Channel }

// Resolve finds the Slack user by the account's work email
// (users.lookupByEmail, scope users:read.email). Bots, deactivated users,
// guests (unless allowed) and users of other workspaces are unmapped, as
// they would be refused if they wrote to the bot.
func (m *messenger) Resolve(ctx context.Context, u directory.User) (outreach.Recipient, error) {
	if strings.TrimSpace(u.Email) == "" {
		return outreach.Recipient{}, outreach.ErrUnmapped
	}
	su, err := m.b.api.GetUserByEmailContext(ctx, u.Email)
	if err != nil {
		var se slack.SlackErrorResponse
		if errors.As(err, &se) && (se.Err == "users_not_found" || se.Err == "user_not_found") {
			return outreach.Recipient{}, outreach.ErrUnmapped
		}
		return outreach.Recipient{}, fmt.Errorf("%w: slack users.lookupByEmail: %w", outreach.ErrUnavailable, err)
	}
	guest := su.IsRestricted || su.IsUltraRestricted || su.IsStranger
	if su.IsBot || su.IsAppUser || su.Deleted || (guest && !m.b.o.Config.AllowGuests) ||
		(su.TeamID != "" && !m.b.allowedTeam(su.TeamID)) {
		return outreach.Recipient{}, outreach.ErrUnmapped
	}
	return outreach.Recipient{Channel: Channel, User: userKey(su.TeamID, su.ID), Locale: su.Locale, TimeZone: su.TZ}, nil
}

// Send implements outreach.DirectMessenger: the notice's text and one
// button per action, each carrying a signed (ref, action) bound to the
// recipient, in the DM.
func (m *messenger) Send(ctx context.Context, r outreach.Recipient, n outreach.Notice) error {
	user := r.User
	if _, u, ok := strings.Cut(r.User, ":"); ok {
		user = u
	}
	if r.Channel != Channel || user == "" {
		return outreach.ErrUnmapped
	}
	ch, err := m.b.dm(ctx, user)
	if err != nil {
		return fmt.Errorf("%w: %w", outreach.ErrUnavailable, err)
	}
	blocks, text := m.b.noticeBlocks(r.User, n.Ref, n.Locale, n.MessageID, n.Args, n.Actions)
	if _, _, err := m.b.api.PostMessageContext(ctx, ch, slack.MsgOptionBlocks(blocks...), slack.MsgOptionText(text, false)); err != nil {
		return fmt.Errorf("%w: slack chat.postMessage: %w", outreach.ErrUnavailable, err)
	}
	return nil
}

// noticeBlocks renders a notice (or an answer's reply) as Block Kit.
func (b *Bot) noticeBlocks(key, ref, loc, id string, args map[string]string, acts []outreach.Action) ([]slack.Block, string) {
	text := b.o.Messages.Text(loc, id, false, args)
	blocks := []slack.Block{section(text)}
	if len(acts) == 0 {
		return blocks, text
	}
	var els []slack.BlockElement
	for _, a := range acts {
		tok := b.o.Tokens.Sign(tokenClaims(key, ref, a.ID, b.now().Add(noticeTTL)))
		btn := b.button(loc, actionOutreach+a.ID, a.MessageID, tok)
		if a.Danger {
			btn.Style = slack.StyleDanger
		} else {
			btn.Style = slack.StylePrimary
		}
		els = append(els, btn)
	}
	return append(blocks, slack.NewActionBlock("out", els...)), text
}

// onOutreach handles a click on a notice button: the Answerer decides;
// a flow starts as if the user had asked for it (the flow verifies them
// as always), or its message is posted.
func (b *Bot) onOutreach(ctx context.Context, ic slack.InteractionCallback, a *slack.BlockAction) (any, func(), error) {
	key := userKey(ic.Team.ID, ic.User.ID)
	c, err := b.o.Tokens.Verify(a.Value, purposeOutreach, key)
	if err != nil {
		return nil, b.refuse(ctx, ic, err), nil
	}
	ref, action, _ := strings.Cut(c.Value, ":")
	delivery := deliveryOf("n:", ic)
	clicked := &clickedMessage{channel: ic.Channel.ID, ts: ic.Container.MessageTs, msg: ic.Message, label: a.Text.Text}
	return nil, nil, b.queue(func(ctx context.Context) {
		b.answerNotice(ctx, ic, key, ref, action, delivery, clicked)
	})
}

func (b *Bot) answerNotice(ctx context.Context, ic slack.InteractionCallback, key, ref, action, delivery string, clicked *clickedMessage) {
	if !b.claim(ctx, delivery) {
		return
	}
	reply, err := b.out.answerer.Answer(ctx, ref, action, outreach.Recipient{Channel: Channel, User: key})
	if err != nil {
		b.log.Warn("slack outreach answer failed", "err", err)
		reply = outreach.Reply{MessageID: "common.fallback"}
	}
	j := job{team: ic.Team.ID, user: ic.User.ID, channel: ic.Channel.ID, delivery: delivery, clicked: clicked}
	if reply.Flow != "" {
		j.input = engine.Input{Kind: engine.InputStart, Flow: reply.Flow}
		b.run(ctx, j)
		return
	}
	b.consume(ctx, clicked)
	loc := b.locale(ic.User.ID)
	blocks, text := b.noticeBlocks(key, ref, loc, reply.MessageID, map[string]string{"ref": reply.Ref}, reply.Actions)
	b.post(ctx, j, blocks, text)
}

// tokenClaims binds a notice button to its recipient, notice and action.
func tokenClaims(key, ref, action string, exp time.Time) token.Claims {
	return token.Claims{Purpose: purposeOutreach, User: key, Value: ref + ":" + action, Expires: exp}
}
