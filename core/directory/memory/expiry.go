package memory

import (
	"context"
	"fmt"
	"time"

	"github.com/resetbot/resetbot/core/directory"
)

var _ directory.ExpiryLister = (*Directory)(nil)

// ExpiringWithin implements directory.ExpiryLister: a password set at
// PasswordChangedAt expires Policy.MaxAge later. Accounts with no known
// change time, disabled, expired, administrator-locked or must-change
// accounts are left out, as the real backends leave them out.
func (d *Directory) ExpiringWithin(ctx context.Context, within time.Duration) ([]directory.Expiry, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memory directory: expiring: %w", err)
	}
	if within <= 0 {
		return nil, fmt.Errorf("memory directory: expiring: window %v must be positive", within)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	var out []directory.Expiry
	if d.policy.MaxAge <= 0 {
		return out, nil
	}
	for _, a := range d.accounts {
		if a.PasswordChangedAt.IsZero() || a.MustChange || directory.Refuse(d.statusOf(a)) != nil {
			continue
		}
		exp := a.PasswordChangedAt.Add(d.policy.MaxAge)
		if exp.After(now) && !exp.After(now.Add(within)) {
			out = append(out, directory.Expiry{User: a.User, ChangedAt: a.PasswordChangedAt, ExpiresAt: exp})
		}
	}
	return out, nil
}

// SetMaxAge sets the policy's maximum password age, keeping the rest.
func (d *Directory) SetMaxAge(maxAge time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.policy.MaxAge = maxAge
}
