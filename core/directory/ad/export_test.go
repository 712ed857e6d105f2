package ad

import "context"

// OpenPlain opens a Directory without Validate and with reads allowed over
// plain LDAP, so tests can check that writes refuse such a connection.
func OpenPlain(ctx context.Context, cfg Config) (*Directory, error) { return open(ctx, cfg, true) }

// BeforeWrite makes f run after the checks and before the write of every
// ResetPassword and Unlock of d.
func BeforeWrite(d *Directory, f func()) { d.beforeWrite = f }
