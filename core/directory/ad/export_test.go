package ad

import "context"

// OpenPlain opens a Directory without Validate and with reads allowed over
// plain LDAP, so tests can check that writes refuse such a connection.
func OpenPlain(ctx context.Context, cfg Config) (*Directory, error) { return open(ctx, cfg, true) }
