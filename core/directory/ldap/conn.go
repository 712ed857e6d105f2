package ldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/core/directory"
)

// pool holds at most size bound connections; idle ones are reused.
type pool struct {
	dial  func(ctx context.Context) (*ldap.Conn, error)
	slots chan struct{}

	mu     sync.Mutex
	idle   []*ldap.Conn
	closed bool
}

func newPool(size int, dial func(context.Context) (*ldap.Conn, error)) *pool {
	return &pool{dial: dial, slots: make(chan struct{}, size)}
}

var errClosed = errors.New("ldap directory is closed")

// get returns a bound connection and whether it is fresh.
func (p *pool) get(ctx context.Context) (*ldap.Conn, bool, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		<-p.slots
		return nil, false, errClosed
	}
	for len(p.idle) > 0 {
		c := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if !c.IsClosing() {
			p.mu.Unlock()
			return c, false, nil
		}
		c.Close()
	}
	p.mu.Unlock()
	c, err := p.dial(ctx)
	if err != nil {
		<-p.slots
		return nil, false, err
	}
	return c, true, nil
}

// put returns c to the pool, or closes it when it must not be reused.
func (p *pool) put(c *ldap.Conn, reuse bool) {
	p.mu.Lock()
	if reuse && !p.closed && !c.IsClosing() {
		p.idle = append(p.idle, c)
		c = nil
	}
	p.mu.Unlock()
	if c != nil {
		c.Close()
	}
	<-p.slots
}

func (p *pool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, c := range p.idle {
		c.Close()
	}
	p.idle = nil
}

// bindError marks a failed service-account bind.
type bindError struct{ err error }

func (e bindError) Error() string { return "service account bind: " + e.err.Error() }
func (e bindError) Unwrap() error { return e.err }

// dial connects, secures and binds one connection.
func (d *Directory) dial(ctx context.Context) (*ldap.Conn, error) {
	dialer := &net.Dialer{Timeout: d.cfg.DialTimeout}
	if dl, ok := ctx.Deadline(); ok {
		dialer.Deadline = dl
	}
	opts := []ldap.DialOpt{ldap.DialWithDialer(dialer)}
	if strings.HasPrefix(strings.ToLower(d.cfg.URL), "ldaps:") {
		opts = append(opts, ldap.DialWithTLSConfig(d.tls.Clone()))
	}
	c, err := ldap.DialURL(d.cfg.URL, opts...)
	if err != nil {
		return nil, err
	}
	c.SetTimeout(d.cfg.RequestTimeout)
	if d.cfg.StartTLS {
		if err := c.StartTLS(d.tls.Clone()); err != nil {
			c.Close()
			return nil, err
		}
	}
	if err := c.Bind(d.cfg.BindDN, d.cfg.BindPassword.Reveal()); err != nil {
		c.Close()
		return nil, bindError{err}
	}
	return c, nil
}

// op runs fn on a pooled connection. The request timeout is cut to the
// context's deadline and a cancelled context closes the connection, which
// aborts the request in flight. A read that fails on a stale pooled
// connection (the server restarted) is retried once on a fresh one; fn sets
// *sent before it writes, and nothing is retried after that.
func (d *Directory) op(ctx context.Context, name string, fn func(c *ldap.Conn, sent *bool) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ldap %s: %w", name, err)
	}
	for attempt := 0; ; attempt++ {
		c, fresh, err := d.pool.get(ctx)
		if err != nil {
			return d.translate(ctx, name, err, false)
		}
		timeout := d.cfg.RequestTimeout
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
			timeout = max(time.Until(dl), time.Millisecond)
		}
		c.SetTimeout(timeout)
		stop := context.AfterFunc(ctx, func() { c.Close() })
		sent := false
		err = fn(c, &sent)
		stopped := stop()
		healthy := stopped && (err == nil || !isNetwork(err))
		d.pool.put(c, healthy)
		if err == nil {
			return nil
		}
		if !fresh && !sent && attempt == 0 && isNetwork(err) && ctx.Err() == nil {
			continue
		}
		return d.translate(ctx, name, err, sent)
	}
}

// isNetwork reports a transport failure (as opposed to an LDAP result).
func isNetwork(err error) bool {
	var le *ldap.Error
	if errors.As(err, &le) {
		return le.ResultCode == ldap.ErrorNetwork
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
		return true
	}
	// go-ldap flattens reader failures into text (fmt %s), so the chain is
	// gone; its own wording is the only mark left.
	msg := err.Error()
	return strings.Contains(msg, "unable to read LDAP response packet") ||
		strings.Contains(msg, "ldap: connection closed")
}

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

// describe says in plain words what went wrong, for the log and check-config.
func describe(err error) string {
	msg := err.Error()
	var (
		be   bindError
		le   *ldap.Error
		ua   x509.UnknownAuthorityError
		he   x509.HostnameError
		ci   x509.CertificateInvalidError
		cve  *tls.CertificateVerificationError
		cert = errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) || errors.As(err, &cve) ||
			strings.Contains(msg, "x509:") || strings.Contains(msg, "certificate")
	)
	isLDAP := errors.As(err, &le)
	switch {
	case cert:
		return "the server's TLS certificate does not verify (check ca_file and server_name): " + msg
	case errors.As(err, &be) && isLDAP && le.ResultCode == ldap.LDAPResultInvalidCredentials:
		return "the service account could not bind: invalid credentials (check bind_dn and bind_password)"
	case errors.As(err, &be) && !isNetwork(err):
		return "the service account could not bind: " + msg
	case errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(msg, "connection refused"):
		return "the server is down or unreachable (connection refused): " + msg
	case strings.Contains(msg, "tls:") || strings.Contains(msg, "TLS handshake"):
		return "the TLS handshake failed: " + msg
	case strings.Contains(msg, "timed out") || strings.Contains(msg, "timeout"):
		return "the server did not answer in time: " + msg
	case isNetwork(err):
		return "the connection to the server failed: " + msg
	case isLDAP && le.ResultCode == ldap.LDAPResultInsufficientAccessRights:
		return "the service account lacks the access rights for this operation: " + msg
	case isLDAP && (le.ResultCode == ldap.LDAPResultBusy || le.ResultCode == ldap.LDAPResultUnavailable):
		return "the server is busy or unavailable: " + msg
	default:
		return "the server refused the request: " + msg
	}
}
