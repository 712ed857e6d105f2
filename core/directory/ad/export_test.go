package ad

import (
	"context"
	"time"
)

// OpenPlain opens a Directory without Validate and with reads allowed over
// plain LDAP, so tests can check that writes refuse such a connection.
func OpenPlain(ctx context.Context, cfg Config) (*Directory, error) { return open(ctx, cfg, true) }

// SetClock replaces the directory's clock.
func (d *Directory) SetClock(now func() time.Time) { d.now = now }
