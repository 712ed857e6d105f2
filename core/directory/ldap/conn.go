package ldap

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/directory/internal/ldapconn"
)

// errClosed is returned after Close.
var errClosed = ldapconn.ErrClosed

// bindError marks a failed service-account bind.
type bindError struct{ err error }

func (e bindError) Error() string { return "service account bind: " + e.err.Error() }
func (e bindError) Unwrap() error { return e.err }

// dial connects, secures and binds one connection.
func (d *Directory) dial(ctx context.Context) (*ldap.Conn, error) {
	c, err := ldapconn.Dial(ctx, ldapconn.Options{URL: d.cfg.URL, StartTLS: d.cfg.StartTLS, TLS: d.tls,
		DialTimeout: d.cfg.DialTimeout, RequestTimeout: d.cfg.RequestTimeout, AllowPlain: d.cfg.AllowPlain})
	if err != nil {
		return nil, err
	}
	if err := c.Bind(d.cfg.BindDN, d.cfg.BindPassword.Reveal()); err != nil {
		c.Close()
		return nil, bindError{err}
	}
	return c, nil
}

// op runs fn on a pooled connection (see ldapconn.Pool.Do: per-request
// timeout, cancellation, one retry of a stale pooled connection unless fn
// set *sent) and translates its error.
func (d *Directory) op(ctx context.Context, name string, fn func(c *ldap.Conn, sent *bool) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ldap %s: %w", name, err)
	}
	out, err := d.pool.Do(ctx, fn)
	if err != nil {
		return d.translate(ctx, name, err, out.Sent)
	}
	return nil
}

// isNetwork reports a transport failure (as opposed to an LDAP result).
func isNetwork(err error) bool { return ldapconn.IsNetwork(err) }

// translate turns a transport or server error into a directory error.
// Domain errors built by the caller pass through.
func (d *Directory) translate(ctx context.Context, op string, err error, sent bool) error {
	for _, domain := range []error{directory.ErrNotFound, directory.ErrProtected, directory.ErrRefused, directory.ErrHeld,
		directory.ErrUnavailable, directory.ErrAmbiguous} {
		if errors.Is(err, domain) {
			return err
		}
	}
	if ctx.Err() != nil {
		if sent {
			return fmt.Errorf("ldap %s: request sent, then %w: %w", op, ctx.Err(), directory.ErrAmbiguous)
		}
		return fmt.Errorf("ldap %s: %w", op, ctx.Err())
	}
	if errors.Is(err, errClosed) {
		return fmt.Errorf("ldap %s: %w: %w", op, errClosed, directory.ErrUnavailable)
	}
	var le *ldap.Error
	isLDAP := errors.As(err, &le)
	if isLDAP && le.ResultCode == ldap.LDAPResultNoSuchObject {
		return directory.ErrNotFound
	}
	if sent && isNetwork(err) {
		return fmt.Errorf("ldap %s at %s: the request was sent but no answer came (%s): %w",
			op, d.cfg.URL, describe(err), directory.ErrAmbiguous)
	}
	return fmt.Errorf("ldap %s at %s: %s: %w", op, d.cfg.URL, describe(err), directory.ErrUnavailable)
}

// describe says in plain words what went wrong, for the log and
// check-config: the transport's reason (ldapconn.Reason) or, for an LDAP
// result, the bind or the refusal.
func describe(err error) string {
	msg := err.Error()
	var (
		be bindError
		le *ldap.Error
	)
	isLDAP := errors.As(err, &le)
	isBind := errors.As(err, &be)
	switch {
	case ldapconn.IsCertificate(err):
		return ldapconn.Reason(err) + ": " + msg
	case isBind && isLDAP && le.ResultCode == ldap.LDAPResultInvalidCredentials:
		return "the service account could not bind: invalid credentials (check bind_dn and bind_password)"
	case isBind && !isNetwork(err):
		return "the service account could not bind: " + msg
	case ldapconn.Reason(err) != "":
		return ldapconn.Reason(err) + ": " + msg
	case isLDAP && le.ResultCode == ldap.LDAPResultInsufficientAccessRights:
		return "the service account lacks the access rights for this operation: " + msg
	case isLDAP && (le.ResultCode == ldap.LDAPResultBusy || le.ResultCode == ldap.LDAPResultUnavailable):
		return "the server is busy or unavailable: " + msg
	default:
		return "the server refused the request: " + msg
	}
}
