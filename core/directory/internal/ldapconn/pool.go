// Package ldapconn is the LDAP transport shared by the ldap and ad
// directories: a bounded pool of bound connections, per-request timeouts
// and cancellation, the one-retry rule for stale pooled connections, and
// the test for transport failures — and the settings both backends embed
// (Settings: connection, TLS, bind, attributes, pool) with their one
// validator. What differs between the backends (how they bind, how they
// word errors, AD's extended codes, their own settings) stays in them.
package ldapconn

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// ErrClosed is returned by Get and Do after Close.
var ErrClosed = errors.New("directory is closed")

// Pool holds at most size bound connections; idle ones are reused (last in,
// first out). go-ldap connections take no context, so a request's context is
// enforced by a per-request timeout and by closing the connection when the
// context ends.
type Pool struct {
	dial    func(ctx context.Context) (*ldap.Conn, error)
	timeout time.Duration
	slots   chan struct{} // one token per connection checked out

	mu     sync.Mutex
	idle   []*ldap.Conn
	closed bool
}

// NewPool returns a pool of at most size connections opened by dial, each
// request bounded by requestTimeout (cut to the context's deadline).
func NewPool(size int, requestTimeout time.Duration, dial func(context.Context) (*ldap.Conn, error)) *Pool {
	return &Pool{dial: dial, timeout: requestTimeout, slots: make(chan struct{}, size)}
}

// Get returns a bound connection and whether it was dialled for this call.
// It waits for a free slot until ctx ends.
func (p *Pool) Get(ctx context.Context) (*ldap.Conn, bool, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		<-p.slots
		return nil, false, ErrClosed
	}
	for len(p.idle) > 0 {
		c := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if !c.IsClosing() { // the server or a cancelled request may have closed it
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

// Put returns c to the pool, or closes it when it must not be reused.
func (p *Pool) Put(c *ldap.Conn, reuse bool) {
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

// Close closes the idle connections; those checked out are closed when
// they come back. Later calls fail with ErrClosed.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, c := range p.idle {
		c.Close()
	}
	p.idle = nil
}

// Outcome says how a request ended, for the caller's error translation.
type Outcome struct {
	// Sent: fn set *sent, so the server may have acted on the request.
	Sent bool
	// Cancelled: the context ended while fn ran (the connection was closed).
	Cancelled bool
}

// Do runs fn on a pooled connection. The request timeout is cut to the
// context's deadline, and a context that ends closes the connection, which
// aborts the request in flight. fn sets *sent before it writes anything the
// server could act on. A transport failure on a pooled (not fresh)
// connection before anything was sent — the server restarted — is retried
// once on a new connection; nothing is retried once *sent is set. The
// error is fn's or the pool's, untranslated.
func (p *Pool) Do(ctx context.Context, fn func(c *ldap.Conn, sent *bool) error) (Outcome, error) {
	if err := ctx.Err(); err != nil {
		return Outcome{}, err
	}
	for attempt := 0; ; attempt++ {
		c, fresh, err := p.Get(ctx)
		if err != nil {
			return Outcome{}, err
		}
		timeout := p.timeout
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
			timeout = time.Until(dl)
		}
		if timeout <= 0 {
			p.Put(c, true)
			return Outcome{}, context.DeadlineExceeded
		}
		c.SetTimeout(timeout)
		stop := context.AfterFunc(ctx, func() { c.Close() })
		var out Outcome
		err = fn(c, &out.Sent)
		out.Cancelled = !stop()
		p.Put(c, !out.Cancelled && !IsNetwork(err))
		if err == nil || out.Cancelled {
			return out, err
		}
		if !fresh && !out.Sent && attempt == 0 && IsNetwork(err) && ctx.Err() == nil {
			continue
		}
		return out, err
	}
}

// IsNetwork reports a transport failure (as opposed to an LDAP result).
func IsNetwork(err error) bool {
	if err == nil {
		return false
	}
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
