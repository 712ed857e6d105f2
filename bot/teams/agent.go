package teams

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/dispatch"
	"github.com/resetbot/resetbot/core/handoff"
)

// The agent command. A help-desk agent @mentions the bot in the help-desk
// channel (channels.teams.help_desk_channel):
//
//	@resetbot handoff alice@corp.example reset|unlock|verify
//
// Agents are only the Entra ID object IDs listed in channels.teams.agent_ids
// (checked on every command, so removing an ID takes effect at once), and
// never guests (see guest.go); with none listed nobody is an agent. Being
// a member of that channel's team is not enough, and the command works only
// in that channel. Anyone else, or anywhere else, is
// refused with teams.agent_refused and a handoff.refused audit event. The
// bot answers in the thread with a status card and updates it live from the
// handoff's status changes: status, factor, reason, reference. Never a
// secret: a handoff holds none.

// NameHandoffRefused is the audit event of a refused agent command.
const NameHandoffRefused = "handoff.refused"

const (
	agentVerb      = "handoff"
	requesterAgent = "agent:" + Channel + ":"
	statusCardTTL  = 48 * time.Hour
)

// statusCard is where an agent's status card lives.
type statusCard struct {
	ServiceURL string `json:"svc"`
	ConvID     string `json:"conv"`
	ID         string `json:"id"`
	Locale     string `json:"l,omitempty"`
}

func statusKey(handoffID string) string { return "teams:hcard:" + handoffID }

// agentRequest reports whether a mention is for the help desk: a handoff
// command anywhere, or anything said to the bot in the help-desk channel.
func (b *Bot) agentRequest(act *inbound) bool {
	if b.handoffs == nil {
		return false
	}
	f := strings.Fields(act.text())
	return (len(f) > 0 && strings.EqualFold(f[0], agentVerb)) || b.inHelpDesk(act)
}

// inHelpDesk reports whether the activity is in the help-desk channel
// (Teams appends ";messageid=..." to a thread's conversation ID).
func (b *Bot) inHelpDesk(act *inbound) bool {
	base := func(s string) string { s, _, _ = strings.Cut(s, ";"); return s }
	return b.helpDesk != "" && base(act.Conversation.ID) == base(b.helpDesk)
}

// isAgent decides who may hand users to the bot.
func (b *Bot) isAgent(act *inbound) bool {
	if !b.inHelpDesk(act) || act.Conversation.ConversationType != "channel" {
		return false
	}
	// Explicit IDs only: team membership is no proof of being an agent (team
	// owners add members, guests included). No IDs: nobody is an agent.
	ids := b.cfg.AgentIDs
	return len(ids) > 0 && slices.ContainsFunc(ids, func(id string) bool { return strings.EqualFold(id, act.From.AadObjectID) })
}

// agentTurn handles a help-desk mention.
func (b *Bot) agentTurn(ctx context.Context, act *inbound) {
	if !b.claim(ctx, act) {
		return
	}
	reply := func(id string) {
		out := &Outgoing{Type: "message", Locale: act.Locale, Text: b.msg.Text(act.Locale, id, false, nil), ReplyToID: act.ID}
		if _, err := b.conn.Send(ctx, act.ServiceURL, act.Conversation.ID, out); err != nil {
			b.log.Error("teams: agent reply failed", "err", err)
		}
	}
	if !b.isAgent(act) || !b.ownMember(ctx, act) {
		reason := "not_agent"
		if !b.inHelpDesk(act) {
			reason = "not_help_desk_channel"
		}
		b.log.Info("teams: agent command refused", "reason", reason)
		if err := b.audit.Write(ctx, audit.Event{Name: NameHandoffRefused, Channel: Channel, Actor: requesterAgent + act.From.AadObjectID,
			Outcome: audit.OutcomeDenied, Reason: reason}); err != nil {
			b.log.Error("teams: audit write failed", "err", err)
		}
		reply("teams.agent_refused")
		return
	}
	if id, phrase, ok := handoff.ParseReadbackCommand(act.text()); ok {
		reply(b.agentReadback(ctx, act.From.AadObjectID, id, phrase))
		return
	}
	f := strings.Fields(act.text())
	if len(f) == 3 && strings.EqualFold(f[0], agentVerb) && strings.EqualFold(f[2], liftVerb) {
		reply(b.agentLift(ctx, f[1], act.From.AadObjectID))
		return
	}
	if len(f) != 3 || !strings.EqualFold(f[0], agentVerb) || !handoff.Action(strings.ToLower(f[2])).Valid() {
		reply("teams.agent_usage")
		return
	}
	h, err := b.handoffs.Start(ctx, handoff.Handoff{Action: handoff.Action(strings.ToLower(f[2])), User: f[1],
		Channel: Channel, Requester: requesterAgent + act.From.AadObjectID}, handoff.StarterFunc(b.StartHandoff))
	switch {
	case errors.Is(err, handoff.ErrInvalid):
		reply("teams.agent_invalid")
		return
	case err != nil:
		b.log.Error("teams: agent handoff not started", "err", err)
		reply("teams.agent_error")
		return
	}
	out := &Outgoing{Type: "message", Locale: act.Locale, ReplyToID: act.ID, Attachments: attachmentOf(b.statusCard(h, act.Locale))}
	id, err := b.conn.Send(ctx, act.ServiceURL, act.Conversation.ID, out)
	if err != nil {
		b.log.Error("teams: status card not sent", "handoff", h.ID, "err", err)
		return
	}
	v, _ := json.Marshal(statusCard{ServiceURL: act.ServiceURL, ConvID: act.Conversation.ID, ID: id, Locale: act.Locale})
	if _, err := b.store.Set(ctx, statusKey(h.ID), v, statusCardTTL); err != nil {
		b.log.Warn("teams: status card not recorded; it will not update", "handoff", h.ID, "err", err)
		return
	}
	// A change between Start and the record above found no card to update.
	if now, err := b.handoffs.Get(ctx, h.ID); err != nil || !now.Updated.Equal(h.Updated) {
		b.refreshStatus(ctx, h.ID)
	}
}

// statusCard renders a handoff's status for the agent: identifiers, status,
// factor, reason and reference only.
func (b *Bot) statusCard(h handoff.Handoff, locale string) map[string]any {
	line := func(id string, args map[string]string) map[string]any {
		return map[string]any{"type": "TextBlock", "wrap": true, "text": b.msg.Text(locale, id, false, args)}
	}
	title := line("teams.handoff_title", map[string]string{"action": string(h.Action), "user": h.User})
	title["weight"] = "bolder"
	status := line("teams.handoff_status", map[string]string{"status": string(h.Status)})
	switch h.Status {
	case handoff.StatusDone:
		status["color"] = "good"
	case handoff.StatusFailed, handoff.StatusEscalated, handoff.StatusExpired:
		status["color"] = "attention"
	}
	body := []any{title, status}
	for _, f := range []struct{ id, key, val string }{
		{"teams.handoff_factor", "factor", h.Factor}, {"teams.handoff_reason", "reason", h.Reason},
		{"teams.handoff_ref", "ref", h.Ref}, {"teams.handoff_id", "id", h.ID},
	} {
		if f.val != "" {
			body = append(body, line(f.id, map[string]string{f.key: f.val}))
		}
	}
	return map[string]any{"type": "AdaptiveCard", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"version": "1.4", "body": body}
}

// handoffChanged is the handoff.ChangeHook: a status change of a handoff an
// agent started in Teams updates their card, on the worker pool (hooks must
// not block the turn that reported the change).
func (b *Bot) handoffChanged(_ context.Context, h handoff.Handoff) {
	if h.Channel != Channel || !strings.HasPrefix(h.Requester, requesterAgent) {
		return
	}
	id := h.ID
	if err := b.pool.Submit(dispatch.Job(func(ctx context.Context) { b.refreshStatus(ctx, id) })); err != nil {
		b.log.Warn("teams: status card update dropped", "handoff", id, "err", err)
	}
}

// refreshStatus renders the handoff's current status into its card. Updates
// are serialised and always read the latest status, so a late update never
// shows an older status than an earlier one.
func (b *Bot) refreshStatus(ctx context.Context, id string) {
	b.statusMu.Lock()
	defer b.statusMu.Unlock()
	rec, err := b.store.Get(ctx, statusKey(id))
	if err != nil {
		return // no card (an API handoff, or not posted yet)
	}
	var sc statusCard
	if json.Unmarshal(rec.Value, &sc) != nil || sc.ID == "" {
		return
	}
	h, err := b.handoffs.Get(ctx, id)
	if err != nil {
		b.log.Warn("teams: handoff not readable for its status card", "handoff", id, "err", err)
		return
	}
	out := &Outgoing{Type: "message", Locale: sc.Locale, Attachments: attachmentOf(b.statusCard(h, sc.Locale))}
	if err := b.conn.Update(ctx, sc.ServiceURL, sc.ConvID, sc.ID, out); err != nil {
		b.log.Warn("teams: status card not updated", "handoff", id, "err", err)
	}
}
