package slack

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/slack-go/slack"

	"github.com/resetbot/resetbot/bot/chatid"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/store"
)

func errorsIsConflict(err error) bool { return errors.Is(err, store.ErrConflict) }

// profile is what the bot knows about a Slack user: identity signals and
// where to reach them privately.
type profile struct {
	Email string
	// EmailConfirmed is Slack's is_email_confirmed: only a confirmed
	// address may name a directory account (identity_mapping).
	EmailConfirmed bool
	Locale         string
	// Team is the user's home workspace; it differs from the event's team
	// for Slack Connect (external) users.
	Team    string
	Guest   bool
	Bot     bool
	Deleted bool
	// DM is the bot's direct-message channel with the user, once known.
	DM string
}

// Profiles are cached for a few minutes so a conversation costs one
// users.info call, not one per turn.
const (
	profileTTL      = 10 * time.Minute
	profileCacheMax = 10000
)

// locale returns the cached locale of a user, or "" (no API call: used on
// the ack path, which must stay fast).
func (b *Bot) locale(user string) string {
	p, _ := b.users.Get(user)
	return p.Locale
}

// profile looks the user up with users.info (email and locale).
func (b *Bot) profile(ctx context.Context, user string) (profile, error) {
	if p, ok := b.users.Get(user); ok {
		return p, nil
	}
	u, err := b.usersInfo(ctx, user)
	if err != nil {
		return profile{}, fmt.Errorf("users.info: %w", err)
	}
	// Guests and strangers (Slack Connect users of other organisations) are
	// not employees of this directory.
	p := profile{Email: u.Profile.Email, EmailConfirmed: u.IsEmailConfirmed, Locale: u.Locale, Team: u.TeamID,
		Guest: u.IsRestricted || u.IsUltraRestricted || u.IsStranger, Bot: u.IsBot || u.IsAppUser, Deleted: u.Deleted}
	b.users.Put(user, p)
	return p, nil
}

// dm returns the bot's direct-message channel with user, opening it when
// needed (conversations.open is idempotent on Slack's side).
func (b *Bot) dm(ctx context.Context, user string) (string, error) {
	if p, ok := b.users.Get(user); ok && p.DM != "" {
		return p.DM, nil
	}
	ch, _, _, err := b.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{user}})
	if err != nil {
		return "", fmt.Errorf("conversations.open: %w", err)
	}
	b.users.Update(user, func(p *profile) { p.DM = ch.ID })
	return ch.ID, nil
}

// hints maps the profile to a directory account (identity_mapping): a
// signal that lets the flow start for that account, never a factor. A
// directory failure gives no hint: the person is asked who they are.
func (b *Bot) hints(ctx context.Context, p profile) engine.Hints {
	h, err := b.mapper.Hints(ctx, chatid.Identity{Email: p.Email, EmailConfirmed: p.EmailConfirmed})
	if err != nil {
		b.log.Warn("slack identity mapping failed; continuing without it", "err", err)
	}
	return h
}
