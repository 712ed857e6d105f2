package slack

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// apiConns carries the Web API calls on every turn's path (callForm:
// users.info, chat.postMessage) over a small pool of kept-alive HTTP/1.1
// connections, synchronously, in the calling goroutine: the request is
// written in one Write and the answer read back with http.ReadResponse.
// net/http's Transport spends most of a call's CPU and allocations on its
// per-connection reader and writer goroutines, their channels, the
// request's clones and header maps; a call here makes about a seventh of
// the allocations (a tenth of the bytes) and needs no goroutine: the pool
// has none, idle connections are checked for age when taken or returned,
// and Bot.Shutdown closes them.
//
// It is used only where it behaves as the Bot's own *http.Transport would
// (newAPIConns says when): a plain http or https base URL, no proxy. The
// requests, answers and errors are the same, but for these differences:
//   - over TLS it speaks HTTP/1.1 on kept-alive connections (ALPN
//     "http/1.1"), where the Transport negotiates HTTP/2 when the server
//     offers it, as slack.com does;
//   - it does not ask for gzip (the Transport adds Accept-Encoding: gzip and
//     decompresses): these answers are a few kilobytes, and a gzip reader
//     costs more than their bytes;
//   - a redirect is not followed (the Transport follows a 307 or 308 and
//     turns a 301 to 303 into a GET): it is a slack.StatusCodeError;
//   - a kept-alive connection the server closes is found closed by the next
//     call rather than by a reader goroutine: see roundTrip.
type apiConns struct {
	base    string // the Web API base URL, for errors (it carries no secret)
	host    string // the Host header
	addr    string // host:port dialed
	path    string // the base's escaped path, ending with "/"
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)
	tls     *tls.Config   // nil for an http base
	timeout time.Duration // the client's timeout, bounding every call
	idleTTL time.Duration // idle connections older than this are closed (0: never)
	max     int           // idle connections kept

	mu     sync.Mutex
	idle   []*apiConn // most recently used last
	closed bool
}

// apiConn is one connection of the pool, used by one call at a time.
type apiConn struct {
	nc     net.Conn
	lr     io.LimitedReader // nc, bounded per call (maxAPIRead)
	br     *bufio.Reader    // reads lr
	idleAt time.Time        // when it was put back (the start of its last call)
	abort  func()           // makes its pending I/O fail at once (a cancelled context)
	reused bool             // it served a call before
}

// maxAPIRead bounds what one call reads of a connection, status line and
// headers included (http.Transport's MaxResponseHeaderBytes is 10 MB).
const maxAPIRead = 10<<20 + maxAPIResponse

// apiUserAgent is the User-Agent net/http's Transport sends by default.
const apiUserAgent = "Go-http-client/1.1"

// aLongTimeAgo is a deadline in the past: it makes pending I/O fail at once.
var aLongTimeAgo = time.Unix(1, 0)

// newAPIConns is the pool for the Web API at base, or nil when calls
// through tr may not be carried the same way: tr is nil (the HTTP client was
// not built by the Bot; a test's RoundTripper must see every request), a
// proxy applies to base, tr dials TLS itself or keeps no connections, or
// base is not a plain http or https URL. timeout is the client's timeout;
// max the idle connections kept (the workers and some headroom).
func newAPIConns(tr *http.Transport, base string, timeout time.Duration, max int) *apiConns {
	if tr == nil || tr.DialTLSContext != nil || tr.DialTLS != nil || tr.DisableKeepAlives { //nolint:staticcheck // DialTLS is honoured by the Transport
		return nil
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || !plainToken(u.Host, ":[].") ||
		u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil
	}
	path := u.EscapedPath()
	if !strings.HasSuffix(path, "/") || !plainToken(path, "/%.-_~") {
		return nil
	}
	if tr.Proxy != nil {
		// http.ProxyFromEnvironment reads the environment once per process,
		// so its answer for base does not change.
		req, err := http.NewRequest(http.MethodPost, base, nil)
		if err != nil {
			return nil
		}
		if pu, err := tr.Proxy(req); pu != nil || err != nil {
			return nil
		}
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	p := &apiConns{base: base, host: u.Host, addr: net.JoinHostPort(u.Hostname(), port), path: path,
		dial: tr.DialContext, timeout: timeout, idleTTL: tr.IdleConnTimeout, max: max}
	if p.dial == nil {
		p.dial = (&net.Dialer{}).DialContext
	}
	if p.timeout <= 0 {
		p.timeout = apiTimeout // the Bot's own client always has one
	}
	if u.Scheme == "https" {
		p.tls = tr.TLSClientConfig.Clone()
		if p.tls == nil {
			p.tls = &tls.Config{}
		}
		if p.tls.ServerName == "" {
			p.tls.ServerName = u.Hostname()
		}
		p.tls.NextProtos = []string{"http/1.1"}
	}
	return p
}

// plainToken says whether s is made of ASCII letters, digits and the
// bytes of extra only: what may go in a request line or header as it is.
func plainToken(s, extra string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') && strings.IndexByte(extra, c) < 0 {
			return false
		}
	}
	return true
}

// get takes the most recently used idle connection, or returns nil. A
// connection idle longer than idleTTL is closed (with every older one).
func (p *apiConns) get(now time.Time) *apiConn {
	p.mu.Lock()
	n := len(p.idle)
	if n == 0 {
		p.mu.Unlock()
		return nil
	}
	c := p.idle[n-1]
	p.idle[n-1] = nil
	p.idle = p.idle[:n-1]
	if !p.stale(c, now) {
		p.mu.Unlock()
		return c
	}
	old := p.idle
	p.idle = nil
	p.mu.Unlock()
	c.close()
	for _, o := range old {
		o.close()
	}
	return nil
}

// stale says whether c has been idle for longer than the pool keeps it.
func (p *apiConns) stale(c *apiConn, now time.Time) bool {
	return p.idleTTL > 0 && now.Sub(c.idleAt) >= p.idleTTL
}

// put returns c to the pool after a call begun at start, or closes it when
// the pool is full or closed. The oldest idle connection is closed if it
// has gone stale, so that a busy pool does not keep dead ones at its bottom.
func (p *apiConns) put(c *apiConn, start time.Time) {
	c.idleAt, c.reused = start, true
	var drop *apiConn
	p.mu.Lock()
	if !p.closed && len(p.idle) < p.max {
		if len(p.idle) > 0 && p.stale(p.idle[0], start) {
			drop = p.idle[0]
			copy(p.idle, p.idle[1:])
			p.idle[len(p.idle)-1] = nil
			p.idle = p.idle[:len(p.idle)-1]
		}
		p.idle = append(p.idle, c)
		c = nil
	}
	p.mu.Unlock()
	if c != nil {
		c.close()
	}
	if drop != nil {
		drop.close()
	}
}

// close closes the idle connections; those in use are closed when their
// call ends.
func (p *apiConns) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, c := range idle {
		c.close()
	}
}

func (c *apiConn) close() { _ = c.nc.Close() }

// connect dials a new connection (and makes the TLS handshake for an https
// base) within the call's deadline dl.
func (p *apiConns) connect(ctx context.Context, dl time.Time) (*apiConn, error) {
	dctx, cancel := context.WithDeadline(ctx, dl)
	defer cancel()
	nc, err := p.dial(dctx, "tcp", p.addr)
	if err != nil {
		return nil, err
	}
	if p.tls != nil {
		tc := tls.Client(nc, p.tls)
		if err := tc.HandshakeContext(dctx); err != nil {
			_ = nc.Close()
			return nil, err
		}
		nc = tc
	}
	c := &apiConn{nc: nc}
	c.lr.R = nc
	c.br = bufio.NewReaderSize(&c.lr, 4<<10)
	c.abort = func() { _ = nc.SetDeadline(aLongTimeAgo) }
	return c, nil
}

// appendRequest appends the request net/http's Transport writes for
// callForm's POST (but Accept-Encoding) to b.
func (p *apiConns) appendRequest(b []byte, method string, form []byte) []byte {
	b = append(b, "POST "...)
	b = append(b, p.path...)
	b = append(b, method...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, p.host...)
	b = append(b, "\r\nUser-Agent: "+apiUserAgent+"\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(form)), 10)
	b = append(b, "\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"...)
	return append(b, form...)
}

// urlError is the error of a call that got no answer, as http.Client.Do
// returns it: the URL names the method, never the form (which has the token).
func (p *apiConns) urlError(method string, err error) error {
	return &url.Error{Op: "Post", URL: p.base + method, Err: err}
}

// cause is err, or the context's error when the context ended: the call
// failed because of it (its deadline is the connection's).
func cause(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if dl, ok := ctx.Deadline(); ok && errors.Is(err, os.ErrDeadlineExceeded) && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return err
}

// apiBufs recycles the byte buffers of the Web API calls on a turn's path:
// a reply's form (postMessage), a request and its answer's body
// (apiConns.call). Buffers grown past apiBufKeep are left to the collector.
var apiBufs = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

const apiBufKeep = 64 << 10

// getAPIBuf returns an empty buffer from apiBufs.
func getAPIBuf() *[]byte {
	b := apiBufs.Get().(*[]byte)
	*b = (*b)[:0]
	return b
}

// putAPIBuf gives b back to apiBufs; nothing may use it afterwards.
func putAPIBuf(b *[]byte) {
	if cap(*b) <= apiBufKeep {
		apiBufs.Put(b)
	}
}

// answer is what a call keeps of an HTTP answer.
type answer struct {
	code       int
	status     string
	retryAfter string
	body       []byte // at most maxAPIResponse+1 bytes, in the call's buffer
	keep       bool   // the connection may serve another call
}

// call is callForm over the pool. The form is copied into the request's
// buffer: nothing holds it once call returns.
func (p *apiConns) call(ctx context.Context, method string, form []byte, out apiAnswer) error {
	if err := ctx.Err(); err != nil {
		return p.urlError(method, err)
	}
	start := time.Now()
	dl := start.Add(p.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(dl) {
		dl = d
	}
	buf := getAPIBuf()
	defer putAPIBuf(buf)
	*buf = p.appendRequest(*buf, method, form)
	a, err := p.roundTrip(ctx, method, start, dl, buf)
	if err != nil {
		return err
	}
	return decodeAnswer(method, a.code, a.status, a.retryAfter, a.body, out)
}

// roundTrip sends the request in buf on an idle connection, or a new one,
// and reads the answer, whose body replaces the request in buf.
//
// A kept-alive connection the server closed while it was idle fails
// before any byte of an answer arrives (EOF or a reset, on the write or the
// first read): the request is then sent once more, at once, on a new
// connection. net/http's Transport, whose reader goroutine notices such a
// close before the connection is used again, sends it on a new one too. A
// server that read the request, then closed the kept-alive connection
// without a byte of answer, cannot be told from one that closed it idle:
// its request is also sent once more, as post sends again a request that
// failed with a *url.Error through net/http. Nothing is sent again after a
// byte of the answer, nor after a new connection failed: chat.postMessage
// is not idempotent.
func (p *apiConns) roundTrip(ctx context.Context, method string, start, dl time.Time, buf *[]byte) (answer, error) {
	c := p.get(start)
	for try := 0; ; try++ {
		if c == nil {
			var err error
			if c, err = p.connect(ctx, dl); err != nil {
				return answer{}, p.urlError(method, cause(ctx, err))
			}
		}
		a, early, err := c.exchange(ctx, dl, buf)
		if err == nil {
			if a.keep {
				p.put(c, start)
			} else {
				c.close()
			}
			return a, nil
		}
		c.close()
		if early && c.reused && try == 0 && closedByPeer(err) && ctx.Err() == nil {
			c = nil
			continue
		}
		if a.status != "" {
			// The answer's head was read: the body failed, as a body read
			// fails through net/http.
			return answer{}, cause(ctx, err)
		}
		return answer{}, p.urlError(method, cause(ctx, err))
	}
}

// closedByPeer says whether err is the server closing or resetting the
// connection.
func closedByPeer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// exchange writes the request in buf on c and reads the answer, its body
// into buf. early reports that the call failed before any byte of an
// answer arrived. The connection's deadline is the call's; a context
// cancelled meanwhile moves it into the past, so that the call ends at
// once, and c is then not kept.
func (c *apiConn) exchange(ctx context.Context, dl time.Time, buf *[]byte) (a answer, early bool, err error) {
	if err := c.nc.SetDeadline(dl); err != nil {
		return a, true, err
	}
	c.lr.N = maxAPIRead
	if ctx.Done() == nil {
		return c.readWrite(buf)
	}
	stop := context.AfterFunc(ctx, c.abort)
	a, early, err = c.readWrite(buf)
	if !stop() {
		a.keep = false
	}
	return a, early, err
}

// readWrite is exchange's I/O.
func (c *apiConn) readWrite(buf *[]byte) (a answer, early bool, err error) {
	if _, err := c.nc.Write(*buf); err != nil {
		return a, true, err
	}
	if _, err := c.br.Peek(1); err != nil {
		return a, true, err
	}
	resp, err := http.ReadResponse(c.br, nil)
	// Informational answers (103 Early Hints) precede the answer.
	for err == nil && resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
		resp, err = http.ReadResponse(c.br, nil)
	}
	if err != nil {
		return a, false, err
	}
	a.code, a.status, a.retryAfter = resp.StatusCode, resp.Status, resp.Header.Get("Retry-After")
	body, whole, err := readBody(resp.Body, (*buf)[:0])
	*buf, a.body = body, body
	if err != nil {
		return a, false, err
	}
	a.keep = whole && !resp.Close && c.br.Buffered() == 0 && resp.StatusCode != http.StatusSwitchingProtocols
	return a, false, nil
}

// readBody reads r into b, up to maxAPIResponse+1 bytes as callForm reads
// an answer through io.LimitReader; whole says r ended within them. A body
// not read to its end is not drained: its connection is closed.
func readBody(r io.Reader, b []byte) ([]byte, bool, error) {
	const limit = maxAPIResponse + 1
	for len(b) < limit {
		if len(b) == cap(b) {
			b = slices.Grow(b, min(max(cap(b), 4<<10), limit-len(b)))
		}
		n, err := r.Read(b[len(b):min(cap(b), limit)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, true, nil
		}
		if err != nil {
			return b, false, err
		}
	}
	return b, false, nil
}
