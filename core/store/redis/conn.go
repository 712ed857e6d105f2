package redis

import (
	"context"
	"net"
	"sync/atomic"
	"syscall"
	"time"
)

// connFresh is how long after reading a reply a pooled connection is taken
// from the pool without go-redis's health check.
const connFresh = time.Second

// keepAlive is go-redis's own TCP keep-alive policy for its dialers: start
// probing after 30 s idle, give up after 3 probes 5 s apart.
var keepAlive = net.KeepAliveConfig{Enable: true, Idle: 30 * time.Second, Interval: 5 * time.Second, Count: 3}

// dialFresh dials as go-redis does without TLS, and wraps the connection in
// a freshConn.
func dialFresh(timeout time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: timeout, KeepAliveConfig: keepAlive}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		sc, ok := c.(syscall.Conn)
		if !ok {
			return c, nil
		}
		return &freshConn{Conn: c, sys: sc}, nil
	}
}

// freshConn is a connection that remembers when it last read from Redis.
// go-redis peeks at a connection's socket (one recvfrom syscall) every time
// it takes one from the pool, so that a connection the server closed while
// it sat idle is dropped instead of failing its next command: two syscalls
// per turn on connections that carried a reply a millisecond before. A
// connection that read a reply less than connFresh ago skips the peek; one
// idle for longer is checked as before. Skipping leaves one case to the
// command itself: a server that closed the connection within connFresh of
// its last reply (a crash or restart), whose next command then fails as it
// could already between a peek and the command; the turn scripts retry
// such failures (retry.go). go-redis skips the check altogether on TLS
// connections.
type freshConn struct {
	net.Conn
	sys  syscall.Conn
	last atomic.Int64 // when a read last returned data, Unix nanoseconds
}

func (c *freshConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.last.Store(time.Now().UnixNano())
	}
	return n, err
}

// NetConn is the wrapped connection.
func (c *freshConn) NetConn() net.Conn { return c.Conn }

// SyscallConn is the wrapped connection's, except that a connection fresh
// from a reply returns one whose Read reports it readable without looking.
func (c *freshConn) SyscallConn() (syscall.RawConn, error) {
	if time.Now().UnixNano()-c.last.Load() < int64(connFresh) {
		return freshRaw{c}, nil
	}
	return c.sys.SyscallConn()
}

// freshRaw is the RawConn of a fresh connection: its Read skips the peek.
type freshRaw struct{ c *freshConn }

func (r freshRaw) Read(func(fd uintptr) bool) error { return nil }

func (r freshRaw) Control(f func(fd uintptr)) error {
	rc, err := r.c.sys.SyscallConn()
	if err != nil {
		return err
	}
	return rc.Control(f)
}

func (r freshRaw) Write(f func(fd uintptr) bool) error {
	rc, err := r.c.sys.SyscallConn()
	if err != nil {
		return err
	}
	return rc.Write(f)
}
