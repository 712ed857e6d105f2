package ad

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/core/directory"
)

// pool holds up to cfg.PoolSize connections bound as the service account.
// go-ldap connections take no context, so a request's context is enforced by
// a per-request timeout and by closing the connection when ctx ends.
type pool struct {
	cfg        Config
	tls        *tls.Config
	allowPlain bool // tests only: lets reads run over plain LDAP; writes are still refused
	idle       chan *ldap.Conn
	slots      chan struct{} // one token per open connection

	mu     sync.Mutex
	closed bool
}

func newPool(cfg Config, tc *tls.Config, allowPlain bool) *pool {
	return &pool{cfg: cfg, tls: tc, allowPlain: allowPlain,
		idle: make(chan *ldap.Conn, cfg.PoolSize), slots: make(chan struct{}, cfg.PoolSize)}
}

// errPoolClosed is returned after Close.
var errPoolClosed = fmt.Errorf("%w: ad: directory is closed", directory.ErrUnavailable)

func (p *pool) get(ctx context.Context) (*ldap.Conn, error) {
	for {
		if p.isClosed() {
			return nil, errPoolClosed
		}
		select {
		case c := <-p.idle:
			if c.IsClosing() { // the server or a cancelled request closed it
				p.discard(c)
				continue
			}
			return c, nil
		default:
		}
		select {
		case c := <-p.idle:
			if c.IsClosing() {
				p.discard(c)
				continue
			}
			return c, nil
		case p.slots <- struct{}{}:
			c, err := p.dial(ctx)
			if err != nil {
				<-p.slots
				return nil, err
			}
			return c, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (p *pool) put(c *ldap.Conn, healthy bool) {
	if !healthy || c.IsClosing() || p.isClosed() {
		p.discard(c)
		return
	}
	p.idle <- c // never blocks: at most PoolSize connections exist
}

func (p *pool) discard(c *ldap.Conn) {
	c.Close()
	<-p.slots
}

func (p *pool) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	for {
		select {
		case c := <-p.idle:
			p.discard(c)
		default:
			return
		}
	}
}

// dial connects, secures the connection (LDAPS, or StartTLS done by hand so
// that TLS errors keep their type and the handshake honours ctx) and binds
// as the service account. A failed StartTLS never falls back to plain text.
func (p *pool) dial(ctx context.Context) (*ldap.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.DialTimeout)
	defer cancel()
	addr, implicitTLS, err := p.cfg.hostPort()
	if err != nil {
		return nil, err
	}
	raw, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, unavailable("connect", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		raw.SetDeadline(dl) //nolint:errcheck // reset below; a failure shows up as an I/O error
	}
	var nc net.Conn = raw
	secure := implicitTLS || p.cfg.StartTLS
	if p.cfg.StartTLS {
		if err := startTLS(raw); err != nil {
			raw.Close()
			return nil, err
		}
	}
	if secure {
		tc := tls.Client(raw, p.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, unavailable("TLS handshake", err)
		}
		nc = tc
	} else if !p.allowPlain {
		raw.Close()
		return nil, fmt.Errorf("%w: ad: refusing a plain LDAP connection", directory.ErrUnavailable)
	}
	raw.SetDeadline(time.Time{}) //nolint:errcheck
	c := ldap.NewConn(nc, secure)
	c.Start()
	c.SetTimeout(p.cfg.RequestTimeout)
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

// startTLS sends the StartTLS extended request on a fresh connection and
// checks the answer, before any other LDAP traffic.
func startTLS(raw net.Conn) error {
	packet := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Request")
	packet.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(1), "MessageID"))
	req := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationExtendedRequest, nil, "Start TLS")
	req.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, "1.3.6.1.4.1.1466.20037", "TLS Extended Command"))
	packet.AppendChild(req)
	if _, err := raw.Write(packet.Bytes()); err != nil {
		return unavailable("StartTLS", err)
	}
	resp, err := ber.ReadPacket(raw)
	if err != nil {
		return unavailable("StartTLS", err)
	}
	if err := ldap.GetLDAPError(resp); err != nil {
		return fmt.Errorf("%w: ad: server refused StartTLS: %w", directory.ErrUnavailable, err)
	}
	return nil
}

// do runs fn on a pooled connection within ctx. write marks operations that
// change the directory: they run only over TLS, and a failure after the
// request was sent is reported as ErrAmbiguous.
func (p *pool) do(ctx context.Context, write bool, fn func(c *ldap.Conn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c, err := p.get(ctx)
	if err != nil {
		return err
	}
	if write {
		// AD refuses unicodePwd without TLS, but the password would already
		// have crossed the network: check before anything is sent.
		if _, ok := c.TLSConnectionState(); !ok {
			p.put(c, true)
			return ErrPlaintext
		}
	}
	timeout := p.cfg.RequestTimeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = time.Until(dl)
	}
	if timeout <= 0 {
		p.put(c, true)
		return context.DeadlineExceeded
	}
	c.SetTimeout(timeout)
	stop := context.AfterFunc(ctx, func() { c.Close() })
	err = fn(c)
	cancelled := !stop()
	p.put(c, !cancelled && !isNetwork(err))
	switch {
	case cancelled && write:
		return fmt.Errorf("%w: ad: request cancelled after it was sent: %w", directory.ErrAmbiguous, ctx.Err())
	case cancelled:
		return ctx.Err()
	case write && isNetwork(err):
		return fmt.Errorf("%w: ad: connection failed after the change was sent: %w", directory.ErrAmbiguous, err)
	}
	return err
}

// ErrPlaintext is returned (wrapping directory.ErrUnavailable) when a write
// would go over a connection without TLS. Nothing is sent.
var ErrPlaintext = fmt.Errorf("%w: ad: refusing to write over an unencrypted connection (use ldaps:// or StartTLS)", directory.ErrUnavailable)

// isNetwork reports a transport failure (as opposed to an LDAP result).
func isNetwork(err error) bool {
	var le *ldap.Error
	if errors.As(err, &le) {
		return le.ResultCode == ldap.ErrorNetwork
	}
	var ne net.Error
	return errors.As(err, &ne)
}
