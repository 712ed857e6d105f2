package teams

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/resetbot/resetbot/core/audit"
)

// Only our own people. The tenant check in ServeHTTP is not enough: an
// Entra B2B guest is a member of our tenant, and activities from them carry
// our tenant ID. Before any turn the person is looked up with the connector's
// member API and refused, like Slack guests, when any sign says guest:
//
//   - userRole "guest" (Teams' own classification);
//   - a UPN with "#EXT#" (how Entra names invited external users);
//   - a home tenantId other than the configured one;
//   - an aadObjectId that is not the one the activity claims.
//
// A lookup that fails refuses too (fail closed), without caching, so the next
// message tries again. channels.teams.allow_guests turns the check off.

// guestCheckTimeout bounds the member lookup.
const guestCheckTimeout = 3 * time.Second

// guestTTL is how long a member's classification is reused.
const guestTTL = 10 * time.Minute

type guestEntry struct {
	guest  bool
	reason string
	exp    time.Time
}

// guestReason classifies a member; "" means one of our own people.
func (b *Bot) guestReason(m Member, aad string) string {
	switch {
	case strings.EqualFold(m.UserRole, "guest"):
		return "guest_role"
	case strings.Contains(strings.ToUpper(m.UserPrincipalName), "#EXT#"):
		return "guest_upn"
	case m.TenantID != "" && !strings.EqualFold(m.TenantID, b.cfg.TenantID):
		return "foreign_home_tenant"
	case m.AadObjectID != "" && !strings.EqualFold(m.AadObjectID, aad):
		return "object_id_mismatch"
	}
	return ""
}

// admitted reports whether the activity's sender may use the bot; a refusal
// is audited and answered with a catalogued message.
func (b *Bot) admitted(ctx context.Context, act *inbound) bool {
	if b.cfg.AllowGuests {
		return true
	}
	reason, ok := b.classify(ctx, act)
	if ok && reason == "" {
		return true
	}
	msg := "teams.not_allowed"
	if !ok {
		reason, msg = "member_lookup_failed", "teams.check_failed"
	}
	b.log.Info("teams: person refused", "reason", reason)
	if err := b.audit.Write(ctx, audit.Event{Name: audit.NameAuthnRejected, Channel: Channel,
		Actor: Channel + ":" + act.From.AadObjectID, Outcome: audit.OutcomeDenied, Reason: reason}); err != nil {
		b.log.Error("teams: audit write failed", "err", err)
	}
	out := &Outgoing{Type: "message", Locale: act.Locale, Text: b.msg.Text(act.Locale, msg, false, nil)}
	if act.personal() {
		out.ReplyToID = ""
	} else {
		out.ReplyToID = act.ID
	}
	if _, err := b.conn.Send(ctx, act.ServiceURL, act.Conversation.ID, out); err != nil {
		b.log.Warn("teams: refusal not sent", "err", err)
	}
	return false
}

// classify returns the member's guest reason; ok is false when the lookup
// failed.
func (b *Bot) classify(ctx context.Context, act *inbound) (string, bool) {
	aad, now := act.From.AadObjectID, b.now()
	b.hintMu.Lock()
	e, hit := b.guests[aad]
	b.hintMu.Unlock()
	if hit && now.Before(e.exp) {
		return e.reason, true
	}
	cctx, cancel := context.WithTimeout(ctx, guestCheckTimeout)
	defer cancel()
	m, err := b.conn.Member(cctx, act.ServiceURL, act.Conversation.ID, act.From.ID)
	if err != nil {
		b.log.Warn("teams: member lookup failed; refusing until it works", "err", err)
		return "", false
	}
	reason := b.guestReason(m, aad)
	b.hintMu.Lock()
	if len(b.guests) >= maxHints {
		clear(b.guests)
	}
	b.guests[aad] = guestEntry{guest: reason != "", reason: reason, exp: now.Add(guestTTL)}
	b.hintMu.Unlock()
	return reason, true
}

// admittedInvoke is admitted for a card invoke, whose refusal is the HTTP
// answer itself.
func (b *Bot) admittedInvoke(w http.ResponseWriter, r *http.Request, act *inbound) bool {
	if b.cfg.AllowGuests {
		return true
	}
	if reason, ok := b.classify(r.Context(), act); ok && reason == "" {
		return true
	}
	b.rejected(r.Context(), "guest_or_unknown_member")
	http.Error(w, "forbidden", http.StatusForbidden)
	return false
}

// ownMember reports whether the sender is one of our own people, whatever
// allow_guests says: guests are never agents.
func (b *Bot) ownMember(ctx context.Context, act *inbound) bool {
	reason, ok := b.classify(ctx, act)
	return ok && reason == ""
}
