package teams

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/outreach"
	"github.com/resetbot/resetbot/core/token"
)

// Notice buttons: their data key and token purpose differ from flow cards',
// so a notice button can never act as a flow choice and the reverse.
const (
	outreachKey     = "rb_out"
	purposeOutreach = "teams.outreach"
	noticeTTL       = 24 * time.Hour
)

// outreachState is the Bot's part of outreach: who answers clicks.
type outreachState struct {
	answerer outreach.LateAnswerer
}

// Outreach returns the bot's outreach.DirectMessenger and makes answers go
// to a.
//
// Teams cannot look a user up by email without Microsoft Graph: a notice
// reaches only people the bot can address, i.e. people it has met (any
// earlier message, card click or install in their personal scope stores
// their conversation reference) or members of the help-desk team. Everyone
// else is unmapped and skipped (see docs/outreach.md).
func (b *Bot) Outreach(a outreach.Answerer) outreach.DirectMessenger {
	b.out.answerer.Set(a)
	return &messenger{b: b}
}

type messenger struct{ b *Bot }

var _ outreach.DirectMessenger = (*messenger)(nil)

// Channel implements outreach.DirectMessenger.
func (m *messenger) Channel() string { return Channel }

// Resolve implements outreach.DirectMessenger with the stored conversation
// references (by email / UPN), then the help-desk team's members.
func (m *messenger) Resolve(ctx context.Context, u directory.User) (outreach.Recipient, error) {
	if strings.TrimSpace(u.Email) == "" {
		return outreach.Recipient{}, outreach.ErrUnmapped
	}
	su, err := m.b.resolve(ctx, u.Email)
	if errors.Is(err, ErrUnreachable) {
		return outreach.Recipient{}, outreach.ErrUnmapped
	}
	if err != nil {
		return outreach.Recipient{}, fmt.Errorf("%w: %w", outreach.ErrUnavailable, err)
	}
	addr, err := json.Marshal(su)
	if err != nil {
		return outreach.Recipient{}, err
	}
	return outreach.Recipient{Channel: Channel, User: su.AAD, Locale: su.Locale, Address: string(addr)}, nil
}

// Send implements outreach.DirectMessenger: a card in the personal chat.
func (m *messenger) Send(ctx context.Context, r outreach.Recipient, n outreach.Notice) error {
	var su seenUser
	if r.Channel != Channel || json.Unmarshal([]byte(r.Address), &su) != nil || su.ID == "" || su.AAD != r.User {
		return outreach.ErrUnmapped
	}
	conv, err := m.b.conn.CreatePersonal(ctx, su.ServiceURL, "28:"+m.b.cfg.AppID, su.ID, m.b.cfg.TenantID)
	if err != nil {
		return fmt.Errorf("%w: %w", outreach.ErrUnavailable, err)
	}
	out := m.b.noticeActivity(r.User, n.Ref, n.Locale, n.MessageID, n.Args, n.Actions)
	if _, err := m.b.conn.Send(ctx, su.ServiceURL, conv, out); err != nil {
		return fmt.Errorf("%w: %w", outreach.ErrUnavailable, err)
	}
	return nil
}

// noticeActivity renders a notice (or an answer) as an Adaptive Card whose
// Action.Submit buttons carry a token bound to the recipient.
func (b *Bot) noticeActivity(user, ref, loc, id string, args map[string]string, acts []outreach.Action) *Outgoing {
	card := map[string]any{"type": "AdaptiveCard", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"version": "1.4", "body": []any{map[string]any{"type": "TextBlock", "wrap": true,
			"text": b.msg.Text(loc, id, false, args)}}}
	var actions []any
	for _, a := range acts {
		tok := b.cards.tokens.Sign(token.Claims{Purpose: purposeOutreach, User: user, Value: ref + ":" + a.ID,
			Expires: b.now().Add(noticeTTL)})
		act := map[string]any{"type": "Action.Submit", "title": b.msg.Text(loc, a.MessageID, false, nil),
			"data": map[string]any{outreachKey: tok}}
		if a.Danger {
			act["style"] = "destructive"
		}
		actions = append(actions, act)
	}
	if len(actions) > 0 {
		card["actions"] = actions
	}
	return &Outgoing{Type: "message", Locale: loc, Attachments: attachmentOf(card)}
}

// outreachClick handles a notice button's submit in the personal chat; it
// reports false when the activity is not one (the normal turn runs). A flow
// it starts leaves its reply to show after the turn's timing floor (pending).
func (b *Bot) outreachClick(ctx context.Context, act *inbound) (bool, pending) {
	var d map[string]json.RawMessage
	if len(act.Value) == 0 || json.Unmarshal(act.Value, &d) != nil || d[outreachKey] == nil {
		return false, pending{}
	}
	var tok string
	_ = json.Unmarshal(d[outreachKey], &tok)
	to := target{act.ServiceURL, act.Conversation.ID}
	user := act.From.AadObjectID
	c, err := b.cards.tokens.Verify(tok, purposeOutreach, user)
	if err != nil || !b.claim(ctx, act) {
		if err != nil {
			b.log.Info("teams: notice button refused (forged, expired or another user's token)")
		}
		return true, pending{}
	}
	ref, action, _ := strings.Cut(c.Value, ":")
	reply, err := b.out.answerer.Answer(ctx, ref, action, outreach.Recipient{Channel: Channel, User: user})
	if err != nil {
		b.log.Warn("teams: outreach answer failed", "err", err)
		reply = outreach.Reply{MessageID: "common.fallback"}
	}
	if reply.Flow != "" {
		in := engine.Input{Kind: engine.InputStart, Flow: reply.Flow}
		r := b.run(ctx, b.turn(ctx, act, in))
		if r.Duplicate {
			return true, pending{}
		}
		return true, pending{at: r.NotBefore, show: func(ctx context.Context) { b.send(ctx, to, r, act.Locale, user, "") }}
	}
	out := b.noticeActivity(user, ref, act.Locale, reply.MessageID, map[string]string{"ref": reply.Ref}, reply.Actions)
	if _, err := b.conn.Send(ctx, to.serviceURL, to.convID, out); err != nil {
		b.log.Warn("teams: outreach reply failed", "err", err)
	}
	return true, pending{}
}
