package mattermost

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"

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

// userCache remembers profiles for a few minutes, so a conversation costs
// one users lookup, not one per turn. It is bounded: when full it is cleared.
type userCache struct {
	mu  sync.Mutex
	m   map[string]cachedProfile
	now func() time.Time
}

type cachedProfile struct {
	p       profile
	expires time.Time
}

const (
	profileTTL      = 10 * time.Minute
	profileCacheMax = 10000
)

func newUserCache(now func() time.Time) *userCache {
	return &userCache{m: map[string]cachedProfile{}, now: now}
}

func (c *userCache) get(id string) (profile, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	if !ok || c.now().After(e.expires) {
		return profile{}, false
	}
	return e.p, true
}

func (c *userCache) put(id string, p profile) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= profileCacheMax {
		clear(c.m)
	}
	c.m[id] = cachedProfile{p: p, expires: c.now().Add(profileTTL)}
}

// profile looks a user up (GET /api/v4/users/{id}, and their teams when a
// team allowlist is configured).
func (b *Bot) profile(ctx context.Context, id string) (profile, error) {
	if p, ok := b.users.get(id); ok {
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
	b.users.put(id, p)
	return p, nil
}

// locale is the cached locale of a user, or "" (no API call).
func (b *Bot) locale(id string) string {
	p, _ := b.users.get(id)
	return p.Locale
}

// Finder finds directory accounts (core/directory.Directory).
type Finder interface {
	Find(ctx context.Context, key directory.Key, value string) ([]directory.User, error)
}

// mapper maps a verified Mattermost email to the one directory account it
// names (identity_mapping). It is an identity signal, never a factor: the
// engine asks for the same factors either way, and an email the server has
// not verified, outside the configured domains, or naming no account or
// several, gives no hint at all — the same replies as no profile.
//
// It follows bot/chatid's rules for the one source Mattermost has (the
// email); chatid itself takes the central configuration type, which an
// adapter must not import.
type mapper struct {
	m     IdentityMapping
	dir   Finder
	now   func() time.Time
	mu    sync.Mutex
	cache map[string]cachedLogin
}

type cachedLogin struct {
	login string
	exp   time.Time
}

const (
	mapTTL      = 10 * time.Minute
	mapCacheMax = 10000
	maxEmail    = 256
)

// newMapper returns nil (no mapping) when the mapping is off or there is
// no directory.
func newMapper(m IdentityMapping, dir Finder, now func() time.Time) *mapper {
	if m.From == "off" || dir == nil {
		return nil
	}
	return &mapper{m: m, dir: dir, now: now, cache: map[string]cachedLogin{}}
}

// hints returns the engine hints for a profile. A directory failure gives
// empty hints and an error, and is not cached.
func (p *mapper) hints(ctx context.Context, pr profile) (engine.Hints, error) {
	if p == nil || !pr.EmailVerified {
		return engine.Hints{}, nil
	}
	key, value, ok := p.query(strings.TrimSpace(pr.Email))
	if !ok {
		return engine.Hints{}, nil
	}
	ck := string(key) + "\x00" + strings.ToLower(value)
	now := p.now()
	p.mu.Lock()
	c, hit := p.cache[ck]
	p.mu.Unlock()
	if hit && now.Before(c.exp) {
		return engine.Hints{Login: c.login}, nil
	}
	users, err := p.dir.Find(ctx, key, value)
	if err != nil {
		return engine.Hints{}, fmt.Errorf("identity mapping: %w", err)
	}
	login := ""
	if len(users) == 1 {
		login = users[0].Login
	}
	p.mu.Lock()
	if len(p.cache) >= mapCacheMax {
		clear(p.cache)
	}
	p.cache[ck] = cachedLogin{login: login, exp: now.Add(mapTTL)}
	p.mu.Unlock()
	return engine.Hints{Login: login}, nil
}

func (p *mapper) query(v string) (directory.Key, string, bool) {
	if v == "" || len(v) > maxEmail || strings.ContainsFunc(v, unicode.IsControl) {
		return "", "", false
	}
	switch p.m.To {
	case "email":
		return directory.ByEmail, v, true
	case "login":
		return directory.ByLogin, v, true
	case "login_prefix":
		at := strings.LastIndexByte(v, '@')
		if at <= 0 {
			return "", "", false
		}
		for _, d := range p.m.Domains {
			if strings.EqualFold(v[at+1:], d) {
				return directory.ByLogin, v[:at], true
			}
		}
	}
	return "", "", false
}
