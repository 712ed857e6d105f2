package teams

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/resetbot/resetbot/bot/chatid"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store"
)

// target is where a reply goes.
type target struct {
	serviceURL string
	convID     string
}

// lastCard remembers the live card of a conversation so that it can be
// frozen (inputs and images removed) when the conversation moves on. Outputs
// carry message IDs and non-secret arguments only; attachments are never
// stored (engine.Output.Attachment is json:"-").
type lastCard struct {
	ID      string          `json:"id"`
	Locale  string          `json:"l,omitempty"`
	Outputs []engine.Output `json:"o"`
	QR      bool            `json:"qr,omitempty"`
}

func cardKey(convID string) string { return "teams:card:" + convID }

// deliveryID makes activity IDs unique across conversations for deduplication.
func deliveryID(act *inbound) string { return act.Conversation.ID + "/" + act.ID }

// turn builds the engine turn for a person's input.
func (b *Bot) turn(ctx context.Context, act *inbound, in engine.Input) engine.Turn {
	return engine.Turn{Channel: Channel, ChannelUser: act.From.AadObjectID, DeliveryID: deliveryID(act),
		Locale: act.Locale, Hints: b.hintsFor(ctx, act), Input: in}
}

// input reads a card submit (value; fromCard is true) or typed text. A
// refused card token is errCardToken.
func (b *Bot) input(act *inbound) (in engine.Input, fromCard bool, err error) {
	if len(act.Value) > 0 && string(act.Value) != "null" {
		var d submitData
		if err := json.Unmarshal(act.Value, &d); err != nil {
			return engine.Input{}, true, errors.Join(errCardToken, err)
		}
		in, err := b.cards.input(d, act.From.AadObjectID)
		return in, true, err
	}
	return engine.Input{Kind: engine.InputText, Value: secret.New(act.text())}, false, nil
}

// run runs a turn. An engine that returns before the turn's timing floor
// (core/engine.Engine.Run) leaves Reply.NotBefore in the future: the
// caller delays showing the reply (later, pending), not the worker.
func (b *Bot) run(ctx context.Context, t engine.Turn) engine.Reply {
	if run, ok := b.engine.(runner); ok {
		return run.Run(ctx, t)
	}
	return b.engine.Handle(ctx, t)
}

// runner is an engine whose Run does not wait out the turn's timing floor.
type runner interface {
	Run(ctx context.Context, t engine.Turn) engine.Reply
}

// personalTurn handles a message (typed text or an Action.Submit) in a 1:1
// chat. It returns false when the turn did not commit (engine Reply.Retry:
// the conversation busy, the store down): nothing is shown, and the
// activity must be delivered again (answerAfterTurn). The reply is left to
// show once the turn's timing floor has passed (pending).
func (b *Bot) personalTurn(ctx context.Context, act *inbound) (bool, pending) {
	if ok, p := b.outreachClick(ctx, act); ok {
		return true, p
	}
	to := target{act.ServiceURL, act.Conversation.ID}
	in, fromCard, err := b.input(act)
	if err != nil {
		b.log.Info("teams: card input refused (missing, forged, expired or another user's token)")
		// A plain message: the chat's live card stays usable.
		out := &Outgoing{Type: "message", Locale: act.Locale, Text: b.msg.Text(act.Locale, "teams.card_refused", false, nil)}
		if _, err := b.conn.Send(ctx, to.serviceURL, to.convID, out); err != nil {
			b.log.Error("teams: reply failed", "err", err)
		}
		return true, pending{}
	}
	reply := b.run(ctx, b.turn(ctx, act, in))
	b.log.Info("teams: turn", "ref", reply.Ref, "input", in.Kind.String(), "flow", reply.Flow, "state", reply.State,
		"duplicate", reply.Duplicate, "retry", reply.Retry)
	if reply.Retry {
		return false, pending{}
	}
	if reply.Duplicate {
		return true, pending{} // the first delivery already answered
	}
	replyTo := ""
	if fromCard {
		replyTo = act.ReplyToID // a card submit: update that card in place
	}
	return true, pending{at: reply.NotBefore, show: func(ctx context.Context) {
		b.send(ctx, to, reply, act.Locale, act.From.AadObjectID, replyTo)
	}}
}

// mentionTurn answers an @mention in a team channel or group chat briefly,
// and continues in a personal chat: nothing of the conversation is shown in
// a place others can read.
func (b *Bot) mentionTurn(ctx context.Context, act *inbound) {
	if b.agentRequest(act) {
		b.agentTurn(ctx, act)
		return
	}
	if !b.claim(ctx, act) {
		return
	}
	conv, err := b.conn.CreatePersonal(ctx, act.ServiceURL, act.Recipient.ID, act.From.ID, b.cfg.TenantID)
	msg := "teams.in_private"
	if err != nil {
		b.log.Error("teams: cannot open a personal chat", "err", err)
		msg = "teams.private_failed"
	}
	out := &Outgoing{Type: "message", Text: b.msg.Text(act.Locale, msg, false, nil), ReplyToID: act.ID}
	if _, err := b.conn.Send(ctx, act.ServiceURL, act.Conversation.ID, out); err != nil {
		b.log.Error("teams: channel reply failed", "err", err)
	}
	if conv == "" {
		return
	}
	reply := menu(b.engine.Flows())
	if text := act.text(); text != "" {
		reply = b.run(ctx, b.turn(ctx, act, engine.Input{Kind: engine.InputText, Value: secret.New(text)}))
		if reply.Duplicate {
			return
		}
	}
	b.later(ctx, reply.NotBefore, func(ctx context.Context) {
		b.send(ctx, target{act.ServiceURL, conv}, reply, act.Locale, act.From.AadObjectID, "")
	})
}

// greet shows the menu when the bot is added to a personal chat.
func (b *Bot) greet(ctx context.Context, act *inbound) {
	if !b.claim(ctx, act) {
		return
	}
	b.hintsFor(ctx, act) // meets the person, so that a help-desk handoff can reach them
	b.send(ctx, target{act.ServiceURL, act.Conversation.ID}, menu(b.engine.Flows()), act.Locale, act.From.AadObjectID, "")
}

// claim deduplicates activities that do not go through the engine (which
// deduplicates by DeliveryID itself). A store failure errs on acting once
// more rather than never.
func (b *Bot) claim(ctx context.Context, act *inbound) bool {
	_, err := b.store.CompareAndSwap(ctx, "teams:dlv:"+deliveryID(act), 0, []byte{1}, time.Hour)
	if errors.Is(err, store.ErrConflict) {
		b.log.Info("teams: duplicate activity ignored", "type", act.Type)
		return false
	}
	if err != nil {
		b.log.Warn("teams: dedupe store failed", "err", err)
	}
	return true
}

// send renders a reply as a card. With replyTo set (a submitted card) that
// card is updated in place; otherwise the previous live card is frozen and a
// new one is posted. Either way at most one card per chat holds inputs.
func (b *Bot) send(ctx context.Context, to target, r engine.Reply, locale, user, replyTo string) {
	if r.Locale != "" {
		locale = r.Locale
	}
	r = b.prepareEnroll(ctx, to, r, locale)
	out := &Outgoing{Type: "message", Locale: locale, Attachments: attachmentOf(b.cards.card(r, locale, user, true))}
	if replyTo != "" {
		err := b.conn.Update(ctx, to.serviceURL, to.convID, replyTo, out)
		if err == nil {
			b.remember(ctx, to, replyTo, r, locale)
			return
		}
		b.log.Warn("teams: card update failed, sending a new card", "ref", r.Ref, "err", err)
	}
	b.freeze(ctx, to)
	id, err := b.conn.Send(ctx, to.serviceURL, to.convID, out)
	if err != nil {
		b.log.Error("teams: reply failed", "ref", r.Ref, "err", err)
		return
	}
	b.remember(ctx, to, id, r, locale)
}

// live reports whether a reply's card holds inputs or an image.
func live(r engine.Reply) bool {
	if r.Ended {
		return false
	}
	for _, o := range r.Outputs {
		if o.Attachment != nil {
			return true
		}
	}
	return r.Last().Expect.Kind != engine.ExpectNone || r.Flow != ""
}

func (b *Bot) remember(ctx context.Context, to target, id string, r engine.Reply, locale string) {
	key := cardKey(to.convID)
	if !live(r) || id == "" {
		if err := b.store.Delete(ctx, key); err != nil && !errors.Is(err, store.ErrNotFound) {
			b.log.Warn("teams: card record not deleted", "err", err)
		}
		return
	}
	rec := lastCard{ID: id, Locale: locale, Outputs: r.Outputs}
	for _, o := range r.Outputs {
		rec.QR = rec.QR || (o.Attachment != nil && o.Attachment.Kind == "qr")
	}
	v, err := json.Marshal(rec)
	if err == nil {
		_, err = b.store.Set(ctx, key, v, b.ttl+10*time.Minute)
	}
	if err != nil {
		b.log.Warn("teams: card record not stored", "err", err)
	}
	if rec.QR {
		// A user who walks away must not leave the QR code on screen: the
		// card is frozen after qrMaxAge whatever happens next, by any replica.
		b.scheduleFreeze(ctx, to, id)
	}
}

// freezeIf freezes the conversation's live card if it is still card id.
func (b *Bot) freezeIf(ctx context.Context, to target, id string) {
	raw, err := b.store.Get(ctx, cardKey(to.convID))
	if err != nil {
		return
	}
	var rec lastCard
	if json.Unmarshal(raw.Value, &rec) != nil || rec.ID != id {
		return
	}
	b.freeze(ctx, to)
}

// freeze replaces the conversation's live card by its texts alone.
func (b *Bot) freeze(ctx context.Context, to target) {
	rec, err := b.store.Take(ctx, cardKey(to.convID))
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			b.log.Warn("teams: card record unreadable", "err", err)
		}
		return
	}
	var lc lastCard
	if err := json.Unmarshal(rec.Value, &lc); err != nil || lc.ID == "" {
		return
	}
	r := engine.Reply{Outputs: lc.Outputs}
	if lc.QR {
		r.Outputs = append(r.Outputs, engine.Output{MessageID: "teams.qr_removed"})
	}
	card := b.cards.card(r, lc.Locale, "", false)
	out := &Outgoing{Type: "message", Locale: lc.Locale, Attachments: attachmentOf(card)}
	if err := b.conn.Update(ctx, to.serviceURL, to.convID, lc.ID, out); err != nil {
		b.log.Warn("teams: old card not frozen", "err", err)
	}
}

// hintEntry caches a member lookup.
type hintEntry struct {
	h   engine.Hints
	exp time.Time
}

const (
	hintTTL     = 10 * time.Minute
	maxHints    = 4096
	hintTimeout = 3 * time.Second
)

// hintsFor maps the member (UPN, email, Entra object ID from the Teams
// member API) to a directory account (identity_mapping). The mapping may
// pre-select the account; it never verifies it. A failed member lookup or
// directory lookup gives no hint and is not cached.
func (b *Bot) hintsFor(ctx context.Context, act *inbound) engine.Hints {
	aad, now := act.From.AadObjectID, b.now()
	b.hintMu.Lock()
	e, ok := b.hints[aad]
	b.hintMu.Unlock()
	if ok && now.Before(e.exp) {
		return e.h
	}
	cctx, cancel := context.WithTimeout(ctx, hintTimeout)
	defer cancel()
	var h engine.Hints
	m, err := b.conn.Member(cctx, act.ServiceURL, act.Conversation.ID, act.From.ID)
	switch {
	case err != nil:
		b.log.Info("teams: member lookup failed; continuing without hints", "err", err)
		return h
	case m.AadObjectID == "" || m.AadObjectID == aad:
		// Entra issues these values to the tenant's own members: the email
		// counts as confirmed.
		h, err = b.mapper.Hints(cctx, chatid.Identity{Email: m.Email, EmailConfirmed: true,
			UPN: m.UserPrincipalName, ObjectID: aad})
		if err != nil {
			b.log.Warn("teams: identity mapping failed; continuing without it", "err", err)
			return h
		}
		m.AadObjectID = aad
		b.learn(ctx, m, act.ServiceURL, act.Locale) // so that a help-desk handoff can reach them
	}
	b.hintMu.Lock()
	if len(b.hints) >= maxHints {
		clear(b.hints)
	}
	b.hints[aad] = hintEntry{h: h, exp: now.Add(hintTTL)}
	b.hintMu.Unlock()
	return h
}
