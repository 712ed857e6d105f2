package ocsf

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Syslog sends each Write as one RFC 5424 message over TCP or TLS, framed by
// octet counting (RFC 5425 section 4.3, RFC 6587 section 3.4.1), so a message
// may hold any byte, newlines included. It reconnects once per message after
// a broken connection.
//
// Write never waits on the network: it hands the message to a bounded queue
// (Queue, 1024) drained by one goroutine, so a slow or absent collector cannot
// slow a conversation. When the queue is full the message is dropped and
// counted (Dropped); the JSON audit file remains the record of authority.
// Call Close to send what is queued and stop.
//
// No maintained Go library served by the module proxy covers RFC 5424 over
// TLS with octet counting (log/syslog speaks RFC 3164 and newline framing;
// srslog is archived; go-syslog parses), so this is a small writer of its own.
type Syslog struct {
	// Addr is host:port of the collector.
	Addr string
	// TLS, if set, wraps the connection (RFC 5425).
	TLS *tls.Config
	// Facility and Severity form the PRI; zero values mean authpriv (10)
	// and informational (6).
	Facility, Severity int
	// AppName and Hostname fill the header; empty means "resetbot" and
	// os.Hostname.
	AppName, Hostname string
	// Timeout bounds a dial or a write; zero means 5 s.
	Timeout time.Duration
	// Now defaults to time.Now.
	Now func() time.Time

	// Queue bounds the messages waiting to be sent (1024).
	Queue int
	// OnError, if set, is called from the sending goroutine with each
	// delivery error (never with the message).
	OnError func(error)

	once    sync.Once
	mu      sync.Mutex // guards closed and the send on ch
	closed  bool
	ch      chan []byte
	done    chan struct{}
	conn    net.Conn // owned by the sending goroutine
	dropped atomic.Uint64
	abort   atomic.Bool // set when Close gives up: drop the rest
}

// ErrQueueFull is returned by Write when the queue is full; the message is
// dropped.
var ErrQueueFull = errors.New("syslog: queue full")

func (s *Syslog) start() {
	s.once.Do(func() {
		n := s.Queue
		if n <= 0 {
			n = 1024
		}
		s.ch, s.done = make(chan []byte, n), make(chan struct{})
		go s.run()
	})
}

// Write queues p (trailing newlines trimmed) as one syslog message.
func (s *Syslog) Write(p []byte) (int, error) {
	s.start()
	msg := s.frame(bytes.TrimRight(p, "\r\n"))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, errors.New("syslog: closed")
	}
	select {
	case s.ch <- msg:
		return len(p), nil
	default:
		s.dropped.Add(1)
		return 0, ErrQueueFull
	}
}

// Dropped is the number of messages dropped because the queue was full.
func (s *Syslog) Dropped() uint64 { return s.dropped.Load() }

func (s *Syslog) run() {
	defer close(s.done)
	for msg := range s.ch {
		if s.abort.Load() {
			s.dropped.Add(1)
			continue
		}
		if err := s.send(msg); err != nil && s.OnError != nil {
			s.OnError(err)
		}
	}
	if s.conn != nil {
		_ = s.conn.Close()
		s.conn = nil
	}
}

// send writes one framed message, redialling once after a failure.
func (s *Syslog) send(msg []byte) error {
	var err error
	for try := 0; try < 2; try++ {
		if s.conn == nil {
			if s.conn, err = s.dial(); err != nil {
				return fmt.Errorf("syslog %s: %w", s.Addr, err)
			}
		}
		_ = s.conn.SetWriteDeadline(time.Now().Add(s.timeout()))
		if _, err = s.conn.Write(msg); err == nil {
			return nil
		}
		_ = s.conn.Close()
		s.conn = nil
	}
	return fmt.Errorf("syslog %s: %w", s.Addr, err)
}

// Close stops accepting messages, sends those queued and closes the
// connection. It waits at most twice the Timeout for the queue to drain; what
// is still queued then is dropped (counted in Dropped).
func (s *Syslog) Close() error {
	s.start()
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.ch)
	}
	s.mu.Unlock()
	select {
	case <-s.done:
		return nil
	case <-time.After(2 * s.timeout()):
		s.abort.Store(true)
		<-s.done
		return fmt.Errorf("syslog %s: closed with %d messages dropped", s.Addr, s.Dropped())
	}
}

func (s *Syslog) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return 5 * time.Second
}

func (s *Syslog) dial() (net.Conn, error) {
	if s.Addr == "" {
		return nil, errors.New("syslog: no address")
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout())
	defer cancel()
	if s.TLS != nil {
		d := tls.Dialer{Config: s.TLS}
		return d.DialContext(ctx, "tcp", s.Addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", s.Addr)
}

// frame builds "LEN SP <PRI>1 TIMESTAMP HOST APP PROCID MSGID - MSG".
func (s *Syslog) frame(msg []byte) []byte {
	fac, sev := s.Facility, s.Severity
	if fac == 0 {
		fac = 10
	}
	if sev == 0 {
		sev = 6
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	host := s.Hostname
	if host == "" {
		host, _ = os.Hostname()
	}
	app := s.AppName
	if app == "" {
		app = "resetbot"
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "<%d>1 %s %s %s %d ocsf - ", fac*8+sev,
		now().UTC().Format("2006-01-02T15:04:05.000000Z07:00"), headerField(host, 255), headerField(app, 48), os.Getpid())
	b.Write(msg)
	return append([]byte(strconv.Itoa(b.Len())+" "), b.Bytes()...)
}

// headerField returns v limited to printable US-ASCII without spaces, at most
// n bytes, or the NILVALUE "-" (RFC 5424 section 6).
func headerField(v string, n int) string {
	out := make([]byte, 0, len(v))
	for i := 0; i < len(v) && len(out) < n; i++ {
		if c := v[i]; c >= 33 && c <= 126 {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return "-"
	}
	return string(out)
}
