package mattermost

import (
	"context"
	"strings"
	"time"

	"github.com/resetbot/resetbot/bot/chatid"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/engine"
)

// profile is what the bot knows about a Mattermost user.
type profile struct {
	Email         string
	EmailVerified bool
	Locale        string
	Teams         []string
	Guest         bool
	Bot           bool
	Deleted       bool
}

// Profiles are cached for a few minutes, so a conversation costs one
// lookup, not one per turn.
const (
	profileTTL      = 10 * time.Minute
	profileCacheMax = 10000
)

// profile looks a user up (GET /api/v4/users/{id}, and their teams when a
// team allowlist is configured).
func (b *Bot) profile(ctx context.Context, id string) (profile, error) {
	if p, ok := b.users.Get(id); ok {
		return p, nil
	}
	u, err := b.api.user(ctx, id)
	if err != nil {
		return profile{}, err
	}
	p := profile{Email: u.Email, EmailVerified: u.EmailVerified, Locale: u.Locale, Guest: u.guest(),
		Bot: u.IsBot, Deleted: u.DeleteAt != 0}
	if b.teams != nil {
		if p.Teams, err = b.api.teams(ctx, id); err != nil {
			return profile{}, err
		}
	}
	b.users.Put(id, p)
	return p, nil
}

// locale is the cached locale of a user, or "" (no API call).
func (b *Bot) locale(id string) string {
	p, _ := b.users.Get(id)
	return p.Locale
}

// Finder finds directory accounts (core/directory.Directory).
type Finder interface {
	Find(ctx context.Context, key directory.Key, value string) ([]directory.User, error)
}

// mapper maps a verified Mattermost email to the one directory account it
// names (identity_mapping) with bot/chatid's rules, the same as every chat
// channel's. It is an identity signal, never a factor: the engine asks for
// the same factors either way, and an email the server has not verified,
// outside the configured domains, or naming no account or several, gives
// no hint at all — the same replies as no profile.
type mapper struct{ m *chatid.Mapper }

// newMapper returns nil (no mapping) when the mapping is off or there is
// no directory.
func newMapper(m chatid.Mapping, dir Finder, now func() time.Time) *mapper {
	if dir == nil {
		return nil
	}
	cm := chatid.New(m, dir, now)
	if cm == nil {
		return nil
	}
	return &mapper{m: cm}
}

// hints returns the engine hints for a profile. A directory failure gives
// empty hints and an error, and is not cached.
func (p *mapper) hints(ctx context.Context, pr profile) (engine.Hints, error) {
	if p == nil {
		return engine.Hints{}, nil
	}
	return p.m.Hints(ctx, chatid.Identity{Email: strings.TrimSpace(pr.Email), EmailConfirmed: pr.EmailVerified})
}
