package ad

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"

	"github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/directory/internal/ldapconn"
)

// pool holds up to cfg.PoolSize connections bound as the service account,
// on the transport shared with the ldap directory (ldapconn). What is AD's
// own: writes only over TLS, and how errors are worded (errors.go).
type pool struct {
	cfg        Config
	tls        *tls.Config
	allowPlain bool // tests only: lets reads run over plain LDAP; writes are still refused
	conns      *ldapconn.Pool
}

func newPool(cfg Config, tc *tls.Config, allowPlain bool) *pool {
	p := &pool{cfg: cfg, tls: tc, allowPlain: allowPlain}
	p.conns = ldapconn.NewPool(cfg.PoolSize, cfg.RequestTimeout, p.dial)
	return p
}

// errPoolClosed is returned after Close.
var errPoolClosed = fmt.Errorf("%w: ad: directory is closed", directory.ErrUnavailable)

func (p *pool) close() { p.conns.Close() }

// dial connects, secures the connection (ldapconn.Dial: LDAPS or StartTLS,
// never a fallback to plain text) and binds as the service account.
func (p *pool) dial(ctx context.Context) (*ldap.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.DialTimeout)
	defer cancel()
	c, err := ldapconn.Dial(ctx, ldapconn.Options{URL: p.cfg.URL, StartTLS: p.cfg.StartTLS, TLS: p.tls,
		RequestTimeout: p.cfg.RequestTimeout, AllowPlain: p.allowPlain})
	if err != nil {
		return nil, dialError(err)
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	err = c.Bind(p.cfg.BindDN, p.cfg.BindPassword.Reveal())
	if !stop() {
		c.Close()
		return nil, unavailable("bind", ctx.Err())
	}
	if err != nil {
		c.Close()
		return nil, bindError(err)
	}
	return c, nil
}

// dialError words a failure of ldapconn.Dial for AD.
func dialError(err error) error {
	var se *ldapconn.StageError
	var le *ldap.Error
	switch {
	case errors.Is(err, ldapconn.ErrPlain):
		return fmt.Errorf("%w: ad: refusing a plain LDAP connection", directory.ErrUnavailable)
	case errors.As(err, &se) && se.Stage == "StartTLS" && errors.As(err, &le):
		return fmt.Errorf("%w: ad: server refused StartTLS: %w", directory.ErrUnavailable, le)
	case errors.As(err, &se):
		return unavailable(se.Stage, se.Err)
	}
	return unavailable("connect", err)
}

// do runs fn on a pooled connection within ctx. write marks operations that
// change the directory: they run only over TLS, and a failure after the
// request was sent is reported as ErrAmbiguous. Reads that meet a stale
// pooled connection are retried once (ldapconn.Pool.Do); writes never are.
func (p *pool) do(ctx context.Context, write bool, fn func(c *ldap.Conn) error) error {
	out, err := p.conns.Do(ctx, func(c *ldap.Conn, sent *bool) error {
		if write {
			// AD refuses unicodePwd without TLS, but the password would
			// already have crossed the network: check before anything is sent.
			if _, ok := c.TLSConnectionState(); !ok {
				return ErrPlaintext
			}
			*sent = true
		}
		return fn(c)
	})
	switch {
	case errors.Is(err, ldapconn.ErrClosed):
		return errPoolClosed
	case out.Cancelled && write:
		return fmt.Errorf("%w: ad: request cancelled after it was sent: %w", directory.ErrAmbiguous, ctx.Err())
	case out.Cancelled:
		return ctx.Err()
	case write && out.Sent && ldapconn.IsNetwork(err):
		return fmt.Errorf("%w: ad: connection failed after the change was sent: %w", directory.ErrAmbiguous, err)
	}
	return err
}

// ErrPlaintext is returned (wrapping directory.ErrUnavailable) when a write
// would go over a connection without TLS. Nothing is sent.
var ErrPlaintext = fmt.Errorf("%w: ad: refusing to write over an unencrypted connection (use ldaps:// or StartTLS)", directory.ErrUnavailable)
