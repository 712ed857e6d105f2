package app

import (
	"context"
	"time"

	"github.com/resetbot/resetbot/core/directory"
)

var _ directory.ExpiryLister = (*timedDirectory)(nil)

// ExpiringWithin passes the optional directory.ExpiryLister through the
// metrics wrapper, timed as operation "expiring" (the reminder sweep's
// directory load). A backend without the capability lists nothing.
func (t *timedDirectory) ExpiringWithin(ctx context.Context, within time.Duration) (_ []directory.Expiry, err error) {
	l, ok := t.Directory.(directory.ExpiryLister)
	if !ok {
		return nil, nil
	}
	ctx, span := t.begin(ctx, "expiring")
	defer func(s time.Time) { t.observe(span, "expiring", s, err) }(time.Now())
	return l.ExpiringWithin(ctx, within)
}
