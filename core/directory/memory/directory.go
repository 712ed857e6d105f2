// Package memory is an in-memory directory.Directory for the demo and for tests.
//
// It enforces a small built-in password policy (minimum length, history,
// minimum age) so the reset flows meet the same refusals as with a real
// server. It is never a production backend: the only constructor meant for
// wiring into a running service is NewDemo, which requires an explicit
// acknowledgement (see DemoAck).
package memory

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/secret"
)

// Account is a directory account held in memory.
type Account struct {
	directory.User
	// Password is the account's current password (only its hash is kept).
	Password secret.String
	// Locked accounts cannot bind; LockedUntil, when set, ends the lock by itself.
	Locked      bool
	LockedUntil time.Time
	// AdminLocked is an administrator's lock (like ppolicy 000001010000Z):
	// it never ends by itself and Unlock refuses it.
	AdminLocked bool
	Disabled    bool
	Expired     bool
	// PasswordExpired marks the current password as expired.
	PasswordExpired bool
	// Protected accounts are never reset or unlocked.
	Protected bool
	// PasswordChangedAt is when the password last changed; with the minimum
	// age it sets the earliest next change. Zero means long ago.
	PasswordChangedAt time.Time
	// MinAge, when positive, replaces Policy.MinAge for this account (like
	// an OpenLDAP pwdPolicySubentry).
	MinAge time.Duration
	// MustChange is the "change at next logon" flag.
	MustChange bool
}

// Policy is the built-in password policy.
type Policy struct {
	// MinLength is the minimum number of characters (runes).
	MinLength int
	// History is how many previous passwords may not be reused (the current
	// one is always refused).
	History int
	// MinAge is the minimum time between two changes.
	MinAge time.Duration
	// MaxAge, when positive, is how long a password lasts (like ppolicy
	// pwdMaxAge or AD maxPwdAge); see ExpiringWithin.
	MaxAge time.Duration
}

// DefaultPolicy is the policy New starts with.
var DefaultPolicy = Policy{MinLength: 8, History: 3}

// account is the stored form of an Account: hashes instead of the password.
type account struct {
	Account
	hash    [32]byte
	history [][32]byte // previous password hashes, newest first
}

// Directory is an in-memory directory. It is safe for concurrent use.
type Directory struct {
	mu       sync.Mutex
	now      func() time.Time
	policy   Policy
	accounts []*account
}

var (
	_ directory.Directory = (*Directory)(nil)
	_ directory.Lister    = (*Directory)(nil)
)

// New returns a directory holding users, with DefaultPolicy and the system
// clock. A user without an ID gets its lower-cased login as ID.
func New(users ...Account) *Directory {
	d := &Directory{now: time.Now, policy: DefaultPolicy}
	for _, u := range users {
		if u.ID == "" {
			u.ID = strings.ToLower(u.Login)
		}
		a := &account{Account: u, hash: hash(u.Password)}
		a.Password = secret.String{}
		d.accounts = append(d.accounts, a)
	}
	return d
}

// SetClock replaces the clock (for tests).
func (d *Directory) SetClock(now func() time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.now = now
}

// SetPolicy replaces the password policy.
func (d *Directory) SetPolicy(p Policy) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.policy = p
}

// hash is a fake-grade password hash: good enough to keep plaintext out of
// memory dumps of the demo, not a password storage scheme.
func hash(p secret.String) [32]byte { return sha256.Sum256([]byte(p.Reveal())) }

// List implements directory.Lister, in ID order. Each page is copied
// under the lock and handed to fn without it.
func (d *Directory) List(ctx context.Context, pageSize int, fn func([]directory.User) error) error {
	if pageSize < 1 {
		return fmt.Errorf("memory directory: list: page size %d", pageSize)
	}
	d.mu.Lock()
	ids := make([]string, 0, len(d.accounts))
	byID := make(map[string]directory.User, len(d.accounts))
	for _, a := range d.accounts {
		ids = append(ids, a.ID)
		byID[a.ID] = a.User
	}
	d.mu.Unlock()
	sort.Strings(ids)
	for len(ids) > 0 {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("memory directory: list: %w", err)
		}
		n := min(pageSize, len(ids))
		page := make([]directory.User, n)
		for i, id := range ids[:n] {
			page[i] = byID[id]
		}
		if err := fn(page); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// Find implements directory.Directory.
func (d *Directory) Find(ctx context.Context, key directory.Key, value string) ([]directory.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memory directory: find: %w", err)
	}
	var match func(u *directory.User) bool
	switch key {
	case directory.ByLogin:
		match = func(u *directory.User) bool { return strings.EqualFold(u.Login, value) }
	case directory.ByEmail:
		match = func(u *directory.User) bool { return strings.EqualFold(u.Email, value) }
	case directory.ByPhone:
		match = func(u *directory.User) bool { return u.Mobile == value }
	case directory.ByEmployeeNumber:
		match = func(u *directory.User) bool { return u.EmployeeNumber == value }
	default:
		return nil, fmt.Errorf("memory directory: unknown lookup key %q", key)
	}
	users := []directory.User{}
	if value == "" {
		return users, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, a := range d.accounts {
		if match(&a.User) {
			users = append(users, a.User)
		}
	}
	return users, nil
}

// lookup returns the stored account for u; the caller holds d.mu.
func (d *Directory) lookup(u directory.User) (*account, error) {
	for _, a := range d.accounts {
		if a.ID == u.ID {
			return a, nil
		}
	}
	return nil, directory.ErrNotFound
}

// statusOf computes the status of a; the caller holds d.mu.
func (d *Directory) statusOf(a *account) directory.Status {
	now := d.now()
	st := directory.Status{
		Locked:          a.AdminLocked || a.Locked && (a.LockedUntil.IsZero() || now.Before(a.LockedUntil)),
		AdminLocked:     a.AdminLocked,
		Disabled:        a.Disabled,
		Expired:         a.Expired,
		PasswordExpired: a.PasswordExpired,
		Protected:       a.Protected,
	}
	if st.Locked && !a.AdminLocked {
		st.LockedUntil = a.LockedUntil
	}
	minAge := d.policy.MinAge
	if a.MinAge > 0 {
		minAge = a.MinAge
	}
	if minAge > 0 && !a.PasswordChangedAt.IsZero() {
		if at := a.PasswordChangedAt.Add(minAge); at.After(now) {
			st.PasswordChangeableAt = at
		}
	}
	return st
}

// Status implements directory.Directory.
func (d *Directory) Status(ctx context.Context, u directory.User) (directory.Status, error) {
	if err := ctx.Err(); err != nil {
		return directory.Status{}, fmt.Errorf("memory directory: status: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	a, err := d.lookup(u)
	if err != nil {
		return directory.Status{}, err
	}
	return d.statusOf(a), nil
}

// ResetPassword implements directory.Directory. Like Active Directory (and
// unlike OpenLDAP ppolicy) a reset does not clear a lockout.
func (d *Directory) ResetPassword(ctx context.Context, u directory.User, password secret.String, opts directory.ResetOptions) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory directory: reset: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	a, err := d.lookup(u)
	if err != nil {
		return err
	}
	if a.Protected {
		return directory.ErrProtected
	}
	if err := directory.Refuse(d.statusOf(a)); err != nil {
		return err
	}
	if err := d.check(a, password); err != nil {
		return err
	}
	h := hash(password)
	a.history = append([][32]byte{a.hash}, a.history...)
	if len(a.history) > d.policy.History {
		a.history = a.history[:d.policy.History]
	}
	a.hash = h
	a.PasswordChangedAt = d.now()
	a.PasswordExpired = false
	a.MustChange = opts.MustChange
	return nil
}

// check applies the policy; the caller holds d.mu.
func (d *Directory) check(a *account, password secret.String) error {
	p := d.policy
	if n := utf8.RuneCountInString(password.Reveal()); n < p.MinLength {
		return &directory.RefusedError{Reason: directory.ReasonTooShort,
			Detail: fmt.Sprintf("the password has %d characters; at least %d are required", n, p.MinLength)}
	}
	if st := d.statusOf(a); !st.PasswordChangeableAt.IsZero() {
		return &directory.RefusedError{Reason: directory.ReasonTooYoung,
			Detail: "the password was changed too recently"}
	}
	h := hash(password)
	for _, old := range append([][32]byte{a.hash}, a.history...) {
		if subtle.ConstantTimeCompare(h[:], old[:]) == 1 {
			return &directory.RefusedError{Reason: directory.ReasonHistory,
				Detail: "the password was used before"}
		}
	}
	return nil
}

// Unlock implements directory.Directory.
func (d *Directory) Unlock(ctx context.Context, u directory.User) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory directory: unlock: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	a, err := d.lookup(u)
	if err != nil {
		return err
	}
	if a.Protected {
		return directory.ErrProtected
	}
	if err := directory.Refuse(d.statusOf(a)); err != nil {
		return err
	}
	a.Locked, a.LockedUntil = false, time.Time{}
	return nil
}

// Bind reports whether login can log in with password now: the password
// matches and the account is neither locked, disabled nor expired. A test
// and demo helper.
func (d *Directory) Bind(ctx context.Context, login string, password secret.String) bool {
	if ctx.Err() != nil {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	h := hash(password)
	for _, a := range d.accounts {
		if !strings.EqualFold(a.Login, login) {
			continue
		}
		st := d.statusOf(a)
		return subtle.ConstantTimeCompare(h[:], a.hash[:]) == 1 && !st.Locked && !st.Disabled && !st.Expired
	}
	return false
}

// MustChange reports whether the account with id must change its password
// at next logon. A test helper.
func (d *Directory) MustChange(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	a, err := d.lookup(directory.User{ID: id})
	return err == nil && a.MustChange
}

// AdminLock locks the account with id as an administrator would: only
// an administrator may lift it. A test helper.
func (d *Directory) AdminLock(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if a, err := d.lookup(directory.User{ID: id}); err == nil {
		a.AdminLocked = true
	}
}

// Lock locks the account with id until unlocked. A test helper.
func (d *Directory) Lock(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if a, err := d.lookup(directory.User{ID: id}); err == nil {
		a.Locked, a.LockedUntil = true, time.Time{}
	}
}

// Manager returns the account whose ID is u's Manager, for notices.
func (d *Directory) Manager(ctx context.Context, u directory.User) (directory.User, bool, error) {
	if err := ctx.Err(); err != nil {
		return directory.User{}, false, fmt.Errorf("memory directory: manager: %w", err)
	}
	if u.Manager == "" {
		return directory.User{}, false, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	a, err := d.lookup(directory.User{ID: u.Manager})
	if err != nil {
		return directory.User{}, false, nil
	}
	return a.User, true, nil
}
