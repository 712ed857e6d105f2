// Package chatid maps a chat platform identity (a Slack profile email, a
// Teams UPN or Entra object ID) to the one directory account it names, so
// that the bot can start a flow for that account without asking for a login.
//
// The mapping is an identity signal, never a verification factor: the
// engine requires the same factors either way (core/engine.Hints). It is
// refused — no hint, the person is asked who they are like anyone else —
// when the platform has not confirmed the value (an unconfirmed Slack
// email), when the value is outside the configured domains, and when it
// matches no account or more than one.
package chatid

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

// Finder finds directory accounts (core/directory.Directory).
type Finder interface {
	Find(ctx context.Context, key directory.Key, value string) ([]directory.User, error)
}

// Identity is what the chat platform says about the person.
type Identity struct {
	// Email is the profile email; EmailConfirmed says the platform has
	// verified the person controls it (Slack's is_email_confirmed; Entra
	// IDs are the tenant's own, so Teams sets it).
	Email          string
	EmailConfirmed bool
	// UPN and ObjectID are the Teams member's user principal name and
	// Entra object ID.
	UPN      string
	ObjectID string
}

// Mapper maps identities to directory accounts. It is safe for concurrent
// use. A nil *Mapper maps nothing.
type Mapper struct {
	m     Mapping
	dir   Finder
	now   func() time.Time
	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	login string
	exp   time.Time
}

// Cache bounds: a mapping is looked up at most once per value per TTL, and
// the cache is cleared when full.
const (
	cacheTTL = 10 * time.Minute
	cacheMax = 10000
	maxValue = 256
)

// New returns a Mapper for a channel's identity_mapping, or nil when the
// mapping is off or there is no directory.
func New(m Mapping, dir Finder, now func() time.Time) *Mapper {
	m = m.WithDefaults()
	if m.Off() || dir == nil {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	return &Mapper{m: m, dir: dir, now: now, cache: map[string]cached{}}
}

// Hints returns the engine hints for id: the login of the only account the
// configured value names, or empty hints. A directory failure is returned
// with empty hints, and is not cached (the next turn tries again).
func (p *Mapper) Hints(ctx context.Context, id Identity) (engine.Hints, error) {
	if p == nil {
		return engine.Hints{}, nil
	}
	key, value, ok := p.query(id)
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
	if len(users) == 1 { // none or several: ambiguous, no mapping
		login = users[0].Login
	}
	p.mu.Lock()
	if len(p.cache) >= cacheMax {
		clear(p.cache)
	}
	p.cache[ck] = cached{login: login, exp: now.Add(cacheTTL)}
	p.mu.Unlock()
	return engine.Hints{Login: login}, nil
}

// query is the directory lookup the configuration asks for, or false when
// the identity offers no usable value.
func (p *Mapper) query(id Identity) (directory.Key, string, bool) {
	var v string
	switch p.m.From {
	case FromEmail:
		if !id.EmailConfirmed {
			return "", "", false // an address anyone could type into a profile
		}
		v = id.Email
	case FromUPN:
		v = id.UPN
	case FromObjectID:
		v = id.ObjectID
	}
	v = strings.TrimSpace(v)
	if v == "" || len(v) > maxValue || strings.ContainsFunc(v, unicode.IsControl) {
		return "", "", false
	}
	switch p.m.To {
	case ToEmail:
		return directory.ByEmail, v, true
	case ToLogin:
		return directory.ByLogin, v, true
	case ToEmployeeNumber:
		return directory.ByEmployeeNumber, v, true
	case ToLoginPrefix:
		at := strings.LastIndexByte(v, '@')
		if at <= 0 || !p.domain(v[at+1:]) {
			return "", "", false
		}
		return directory.ByLogin, v[:at], true
	}
	return "", "", false
}

func (p *Mapper) domain(d string) bool {
	for _, ok := range p.m.Domains {
		if strings.EqualFold(d, ok) {
			return true
		}
	}
	return false
}
