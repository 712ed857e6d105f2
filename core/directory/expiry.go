package directory

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Expiry is when one account's current password stops working.
type Expiry struct {
	User User
	// ChangedAt is when the password was last set (pwdChangedTime on
	// OpenLDAP, pwdLastSet on AD). With User.ID it names one password: a
	// reminder already sent for it is never sent again, and a new password
	// starts a new series.
	ChangedAt time.Time
	// ExpiresAt is when the password expires.
	ExpiresAt time.Time
}

// ExpiryLister is an optional capability of a Directory, found by type
// assertion: it lists the accounts whose password expires soon, for the
// expiry reminders.
//
// ExpiringWithin returns the enabled accounts whose password expires after
// now and no later than now+within. It reads only those accounts — the
// search filters on a range of the password's change time — never the whole
// directory. Accounts whose password never expires, already expired,
// disabled accounts and accounts that must change their password at next
// logon are left out. The order is unspecified. It is safe for concurrent use.
type ExpiryLister interface {
	ExpiringWithin(ctx context.Context, within time.Duration) ([]Expiry, error)
}

// ExpiringWithin implements ExpiryLister over every routed directory that
// has the capability (the others are skipped), each expiry's User.Directory
// set to the route's name. A failing directory does not hide the others'
// accounts: their lists are returned together with the joined errors.
func (r *Router) ExpiringWithin(ctx context.Context, within time.Duration) ([]Expiry, error) {
	var out []Expiry
	var errs []error
	for _, rt := range r.routes {
		l, ok := rt.Dir.(ExpiryLister)
		if !ok {
			continue
		}
		list, err := l.ExpiringWithin(ctx, within)
		if err != nil {
			errs = append(errs, fmt.Errorf("directory %q: %w", rt.Name, err))
			continue
		}
		for _, e := range list {
			e.User.Directory = rt.Name
			out = append(out, e)
		}
	}
	return out, errors.Join(errs...)
}

var _ ExpiryLister = (*Router)(nil)
