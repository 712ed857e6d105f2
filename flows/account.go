package flows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/regulation"
	"github.com/resetbot/resetbot/core/store"
)

// varUser is the session variable holding the identified user's directory
// key "<directory>:<id>" (the engine reads it too). Everything else about
// verification lives in the typed verification state (verification.go).
const varUser = engine.VarUser

// userKey names a user across directories.
func userKey(u directory.User) string { return u.Directory + ":" + u.ID }

// setUser records an identified user in the session.
func setUser(s *engine.Session, u directory.User) {
	s.Set(varUser, userKey(u))
	updateV(s, func(v *verification) {
		v.Login, v.Nobody, v.RegKey, v.Candidates = u.Login, false, "", nil
	})
}

// setPhantom records that identification matched nobody. The flow continues
// exactly as for a real user; every verification simply fails. What was
// typed is regulated under its typed key, as a real login's is.
func (d *Deps) setPhantom(s *engine.Session, typed string) {
	s.Set(varUser, "")
	updateV(s, func(v *verification) {
		v.Login, v.Nobody, v.Candidates = "", true, nil
		if v.RegKey == "" {
			v.RegKey = d.Regulator.Typed(typed).ID
		}
	})
}

// setTyped records the regulation key of what was typed at the login
// prompt (an HMAC under the configured key: regulation.Regulator.Typed).
func (d *Deps) setTyped(s *engine.Session, typed string) {
	updateV(s, func(v *verification) { v.RegKey = d.Regulator.Typed(typed).ID })
}

func phantom(s *engine.Session) bool { return loadV(s).Nobody }

// login returns the identified account's login ("" when none).
func login(s *engine.Session) string { return loadV(s).Login }

// currentUser looks the identified user up again. The session keeps only the
// key and login, so no contact data sits in the state store.
func (d *Deps) currentUser(ctx context.Context, s *engine.Session) (directory.User, bool, error) {
	key, l := s.Get(varUser), login(s)
	if key == "" || l == "" {
		return directory.User{}, false, nil
	}
	users, err := d.Directory.Find(ctx, directory.ByLogin, l)
	if err != nil {
		return directory.User{}, false, fmt.Errorf("look up %s again: %w", "user", err)
	}
	for _, u := range users {
		if userKey(u) == key {
			return u, true, nil
		}
	}
	return directory.User{}, false, nil
}

// identityKeys are the regulation keys of whoever is talking: the channel
// identity and, on the phone, the caller's number (every call has a new
// CallSid, so the number is what ties a caller's attempts together; it is a
// signal for throttling only, never a factor).
func identityKeys(c *engine.Ctx) []regulation.Key {
	s := c.Session
	keys := []regulation.Key{{Scope: regulation.ScopeChannelUser, ID: s.Channel + ":" + s.ChannelUser}}
	if c.Voice && c.Turn.Hints.Phone != "" {
		keys = append(keys, regulation.Key{Scope: regulation.ScopeCaller, ID: c.Turn.Hints.Phone})
	}
	return keys
}

// regKeys are the regulation keys of a verification attempt on one factor
// group: who is talking (hard limits, the only source of delays), and, per
// factor group, what was typed at the login prompt and the account (soft
// limits). A real login and an unknown one both have a typed key, so a pause
// reached through "x" shows the same through "x@domain" whether or not the
// account exists; the account key adds what only a real account has — one
// count shared by all its aliases.
func regKeys(c *engine.Ctx, group string) []regulation.Key {
	s := c.Session
	keys := identityKeys(c)
	if rk := loadV(s).RegKey; rk != "" {
		keys = append(keys, regulation.Key{Scope: regulation.ScopeTyped, ID: rk, Factor: group})
	}
	if id := s.Get(varUser); id != "" {
		keys = append(keys, regulation.Key{Scope: regulation.ScopeUser, ID: id, Factor: group})
	}
	return keys
}

// account returns the identified account, or the escalate event when it has
// left the directory since it was identified.
func (d *Deps) account(ctx context.Context, c *engine.Ctx) (directory.User, string, error) {
	u, ok, err := d.currentUser(ctx, c.Session)
	if err != nil {
		return u, "", err
	}
	if !ok {
		c.Session.Set(varEscReason, "user_gone")
		return u, engine.EventEscalate, nil
	}
	return u, "", nil
}

// Active records which conversation currently owns an account (a store).
type Active interface {
	Get(ctx context.Context, key string) (store.Record, error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) (uint64, error)
}

// Counters counts events per key in fixed windows (a store).
type Counters interface {
	Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error)
}

// activeTTL bounds the ownership record; no conversation lives longer.
const activeTTL = time.Hour

func activeKey(userKey string) string { return "active:" + userKey }

// identified binds the conversation to account u.
func (d *Deps) identified(_ context.Context, c *engine.Ctx, u directory.User) error {
	setUser(c.Session, u)
	updateV(c.Session, func(v *verification) { v.Lang = u.PreferredLanguage })
	if loadV(c.Session).RegKey == "" {
		// Identified without typing (a platform hint, a handoff): regulated
		// as if the login had been typed.
		d.setTyped(c.Session, u.Login)
	}
	return nil
}

// claim makes a verified conversation the account's one active conversation:
// an older one on any channel ends at its next turn, so two conversations
// never race for the same account. Only verification claims, so typing
// someone's login can neither end their conversation nor learn that the
// account exists.
func (d *Deps) claim(ctx context.Context, c *engine.Ctx) error {
	if d.Active == nil || c.Session.Get(varUser) == "" {
		return nil
	}
	if _, err := d.Active.Set(ctx, activeKey(c.Session.Get(varUser)), []byte(c.Session.ID), activeTTL); err != nil {
		return fmt.Errorf("claim account: %w", err)
	}
	return nil
}

// guard ends a verified conversation that a newer verified one for the same
// account replaced. Conversations not verified yet are left alone: they take
// over when they verify.
func (d *Deps) guard(ctx context.Context, c *engine.Ctx) (string, error) {
	key := c.Session.Get(varUser)
	if d.Active == nil || key == "" || loadV(c.Session).VerifiedAt == 0 {
		return "", nil
	}
	rec, err := d.Active.Get(ctx, activeKey(key))
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("account owner: %w", err)
	}
	if string(rec.Value) != c.Session.ID {
		c.Audit(ctx, audit.Event{Name: "flow.superseded"})
		c.Say("common.superseded")
		return engine.EventExpire, nil
	}
	return "", nil
}

// LiftKeys are every regulation key the flows count for account u: the
// account and the typed forms of its login, e-mail address and employee
// number, for each regulated group (the built-in factor groups, security
// questions, enrollment confirmations, and any extra groups of plugged-in
// methods). The help desk lifts them all at once (regulation.Lift).
func LiftKeys(typed func(string) regulation.Key, u directory.User, extraGroups ...string) []regulation.Key {
	groups := []string{"", string(identity.GroupApp), string(identity.GroupPhone), string(identity.GroupEmail),
		string(identity.FactorQuestions), string(factorEnroll)}
	for _, g := range extraGroups {
		if !slices.Contains(groups, g) {
			groups = append(groups, g)
		}
	}
	bases := []regulation.Key{{Scope: regulation.ScopeUser, ID: userKey(u)}, typed(u.Login)}
	if u.Email != "" {
		bases = append(bases, typed(u.Email))
	}
	if u.EmployeeNumber != "" {
		bases = append(bases, typed(u.EmployeeNumber))
	}
	var keys []regulation.Key
	for _, b := range bases {
		for _, g := range groups {
			keys = append(keys, b.For(g))
		}
	}
	return keys
}
