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
	"github.com/resetbot/resetbot/core/handoff"
	"github.com/resetbot/resetbot/core/handoff/escalate"
	"github.com/resetbot/resetbot/core/store"
)

// Help-desk handoffs on Teams.
//
// A bot can only message people it has met: the Bot Framework creates a
// personal conversation with a user only if the user installed the app or
// shares a team with the bot. The bot therefore keeps a directory of the
// people it has seen — Entra object ID and Teams ID under their UPN and
// e-mail address, from the member lookup it does on their own messages and
// on installation — in the store (seenTTL). A handoff naming someone the bot
// has not met falls back to a member lookup, by UPN, in the help-desk
// channel's team; when that fails too, the handoff fails as "unreachable".

// HandoffStore is what the agent command needs of core/handoff.Store.
type HandoffStore interface {
	Start(ctx context.Context, h handoff.Handoff, st handoff.Starter) (handoff.Handoff, error)
	Get(ctx context.Context, id string) (handoff.Handoff, error)
}

// Accounts finds directory accounts: a handoff that names a login is
// reached through the account's e-mail address (core/directory).
type Accounts interface {
	Find(ctx context.Context, key directory.Key, value string) ([]directory.User, error)
}

// ErrUnreachable means the person named by a handoff is not known to the bot
// (never seen, not a member of the help-desk team) or their personal chat
// could not be opened.
var ErrUnreachable = errors.New("teams: user cannot be reached")

const (
	// seenTTL is how long the bot remembers how to reach a person it met.
	seenTTL = 90 * 24 * time.Hour
	// svcKey holds the serviceUrl of the latest authenticated activity.
	svcKey = "teams:svc"
	svcTTL = 30 * 24 * time.Hour
)

// seenUser is how to reach one person proactively. It holds identifiers only.
type seenUser struct {
	ID         string `json:"id"`  // Teams user ID (29:...)
	AAD        string `json:"aad"` // Entra object ID: the engine's ChannelUser
	ServiceURL string `json:"svc"`
	Locale     string `json:"l,omitempty"`
}

func seenKey(name string) string { return "teams:user:" + strings.ToLower(strings.TrimSpace(name)) }

// learn remembers a member the bot met, under their UPN and e-mail address.
func (b *Bot) learn(ctx context.Context, m Member, serviceURL, locale string) {
	if m.ID == "" || m.AadObjectID == "" || (m.TenantID != "" && !strings.EqualFold(m.TenantID, b.cfg.TenantID)) {
		return
	}
	v, err := json.Marshal(seenUser{ID: m.ID, AAD: m.AadObjectID, ServiceURL: serviceURL, Locale: locale})
	if err != nil {
		return
	}
	for _, name := range []string{m.UserPrincipalName, m.Email} {
		if name == "" {
			continue
		}
		if _, err := b.store.Set(ctx, seenKey(name), v, seenTTL); err != nil {
			b.log.Warn("teams: seen user not stored", "err", err)
			return
		}
	}
}

// learnServiceURL remembers the serviceUrl of an authenticated activity, for
// messages the bot starts when channels.teams.service_url is empty.
func (b *Bot) learnServiceURL(ctx context.Context, u string) {
	if old, _ := b.svcURL.Load().(string); old == u {
		return
	}
	b.svcURL.Store(u)
	if _, err := b.store.Set(ctx, svcKey, []byte(u), svcTTL); err != nil {
		b.log.Warn("teams: service URL not stored", "err", err)
	}
}

// proactiveURL is the serviceUrl for messages the bot starts.
func (b *Bot) proactiveURL(ctx context.Context) string {
	if b.cfg.ServiceURL != "" {
		return b.cfg.ServiceURL
	}
	if u, _ := b.svcURL.Load().(string); u != "" {
		return u
	}
	if rec, err := b.store.Get(ctx, svcKey); err == nil {
		return string(rec.Value)
	}
	return ""
}

// names are the UPNs or e-mail addresses a handoff's user may be known by.
func (b *Bot) names(ctx context.Context, user string) []string {
	if strings.Contains(user, "@") || b.accounts == nil {
		return []string{user}
	}
	names := []string{user}
	users, err := b.accounts.Find(ctx, directory.ByLogin, user)
	if err != nil {
		b.log.Warn("teams: directory lookup for a handoff failed", "err", err)
		return names
	}
	if len(users) == 1 && users[0].Email != "" {
		names = append(names, users[0].Email)
	}
	return names
}

// resolve finds how to reach the person a handoff names.
func (b *Bot) resolve(ctx context.Context, user string) (seenUser, error) {
	names := b.names(ctx, user)
	for _, n := range names {
		rec, err := b.store.Get(ctx, seenKey(n))
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return seenUser{}, fmt.Errorf("teams: seen users: %w", err)
		}
		var su seenUser
		if json.Unmarshal(rec.Value, &su) == nil && su.ID != "" && su.AAD != "" && b.conn.AllowedServiceURL(su.ServiceURL) {
			return su, nil
		}
	}
	svc := b.proactiveURL(ctx)
	if b.helpDesk == "" || svc == "" {
		return seenUser{}, ErrUnreachable
	}
	for _, n := range names {
		if !strings.Contains(n, "@") {
			continue
		}
		m, err := b.conn.Member(ctx, svc, b.helpDesk, n)
		if err != nil {
			b.log.Info("teams: handoff user not found in the help-desk team", "err", err)
			continue
		}
		if m.ID != "" && m.AadObjectID != "" && (m.TenantID == "" || strings.EqualFold(m.TenantID, b.cfg.TenantID)) {
			b.learn(ctx, m, svc, "")
			return seenUser{ID: m.ID, AAD: m.AadObjectID, ServiceURL: svc}, nil
		}
	}
	return seenUser{}, ErrUnreachable
}

// StartHandoff implements handoff.Starter for Teams: it finds the person,
// opens the personal chat, says that the help desk sent the bot, and starts
// the flow there (the flow identifies the account from the handoff and still
// verifies the person). An error means the person could not be reached.
func (b *Bot) StartHandoff(ctx context.Context, h handoff.Handoff) error {
	if h.Channel != Channel {
		return fmt.Errorf("teams: handoff for channel %q", h.Channel)
	}
	su, err := b.resolve(ctx, h.User)
	if err != nil {
		return err
	}
	conv, err := b.conn.CreatePersonal(ctx, su.ServiceURL, "28:"+b.cfg.AppID, su.ID, b.cfg.TenantID)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	intro := &Outgoing{Type: "message", Locale: su.Locale, Text: b.msg.Text(su.Locale, "teams.handoff_intro", false, nil)}
	if _, err := b.conn.Send(ctx, su.ServiceURL, conv, intro); err != nil {
		return fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	// Action names equal flow names: reset, unlock, and verify (flows.FlowVerify).
	reply := b.engine.Handle(ctx, engine.Turn{Channel: Channel, ChannelUser: su.AAD, DeliveryID: "handoff:" + h.ID,
		Locale: su.Locale, Input: engine.Input{Kind: engine.InputStart, Flow: string(h.Action), Handoff: h.ID}})
	b.log.Info("teams: handoff started", "handoff", h.ID, "ref", reply.Ref, "flow", reply.Flow, "state", reply.State)
	if reply.Duplicate {
		return nil
	}
	b.send(ctx, target{su.ServiceURL, conv}, reply, su.Locale, su.AAD, "")
	return nil
}

// PostEscalation posts an escalation packet (plain text from
// escalate.Render) into the help-desk channel; it is the Teams
// escalate.Poster.
func (b *Bot) PostEscalation(ctx context.Context, text string) error {
	if b.helpDesk == "" {
		return errors.New("teams: no help-desk channel configured")
	}
	return b.postTo(ctx, b.helpDesk, text)
}

// Poster posts plain text into the channel conversation target (alarms, the
// monthly summary), as PostEscalation does into the help-desk channel.
func (b *Bot) Poster(target string) escalate.Poster {
	return escalate.PosterFunc(func(ctx context.Context, text string) error { return b.postTo(ctx, target, text) })
}

func (b *Bot) postTo(ctx context.Context, conv, text string) error {
	svc := b.proactiveURL(ctx)
	if svc == "" {
		return errors.New("teams: no service URL known yet: set channels.teams.service_url")
	}
	_, err := b.conn.Send(ctx, svc, conv, &Outgoing{Type: "message", Text: text, TextFormat: "plain"})
	return err
}
