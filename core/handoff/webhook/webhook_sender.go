package webhook

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/resetbot/resetbot/core/secret"
)

// Errors returned by Sender.Send.
var (
	// ErrQueueFull means the bounded queue is full; the message was dropped
	// (counted in Stats and logged).
	ErrQueueFull = errors.New("webhook: queue full")
	// ErrClosed means Close was called.
	ErrClosed = errors.New("webhook: sender closed")
	// ErrInsecureURL means the URL is not https (nor allowed loopback http).
	ErrInsecureURL = errors.New("webhook: URL must be https")
)

// Target is where one webhook goes.
type Target struct {
	// Name identifies the target in logs ("apikey:servicenow", "ticket");
	// the URL is never logged, since some receivers put a token in it.
	Name   string
	URL    string
	Secret secret.String
}

// Options configures a Sender. Zero values take the defaults.
type Options struct {
	// Client defaults to an http.Client that never follows redirects (a
	// redirect could lead from https to http).
	Client *http.Client
	// Timeout bounds each attempt (10s).
	Timeout time.Duration
	// Queue is the buffer size (256); Workers the number of deliverers (2).
	Queue, Workers int
	// Attempts is the number of tries per message (6).
	Attempts int
	// Backoff is the wait before the first retry (1s), doubled each time up
	// to MaxBackoff (1m).
	Backoff, MaxBackoff time.Duration
	// AllowLoopbackHTTP accepts http:// URLs to loopback addresses (tests).
	AllowLoopbackHTTP bool
	// Clock (time.Now) stamps signatures; Rand (crypto/rand) makes delivery IDs.
	Clock func() time.Time
	Rand  io.Reader
	// Log defaults to slog.Default().
	Log *slog.Logger
}

// Stats are a Sender's counters since it started.
type Stats struct {
	// Delivered counts messages a receiver accepted with a 2xx.
	Delivered uint64
	// Failed counts messages given up after the last attempt or refused
	// permanently (4xx, redirect).
	Failed uint64
	// Dropped counts messages refused because the queue was full.
	Dropped uint64
	// Retries counts attempts after the first.
	Retries uint64
}

// Sender delivers signed webhooks from a bounded queue with retries. It is
// safe for concurrent use.
type Sender struct {
	o    Options
	ch   chan job
	wg   sync.WaitGroup
	mu   sync.RWMutex
	shut bool
	stop chan struct{}

	delivered, failed, dropped, retries atomic.Uint64
}

type job struct {
	ctx  context.Context
	t    Target
	body []byte
	id   string
}

// NewSender starts the workers; call Close to stop them.
func NewSender(o Options) *Sender {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	o.Queue, o.Workers = max(o.Queue, 0), max(o.Workers, 0)
	if o.Queue == 0 {
		o.Queue = 256
	}
	if o.Workers == 0 {
		o.Workers = 2
	}
	if o.Attempts <= 0 {
		o.Attempts = 6
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = time.Minute
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Client == nil {
		o.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	s := &Sender{o: o, ch: make(chan job, o.Queue), stop: make(chan struct{})}
	s.wg.Add(o.Workers)
	for range o.Workers {
		go s.work()
	}
	return s
}

// CheckURL returns ErrInsecureURL unless raw is an absolute https URL
// without credentials (or loopback http when allowed).
func (s *Sender) CheckURL(raw string) error { return checkURL(raw, s.o.AllowLoopbackHTTP) }

func checkURL(raw string, loopbackHTTP bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return ErrInsecureURL
	}
	if u.Scheme == "https" {
		return nil
	}
	if u.Scheme == "http" && loopbackHTTP {
		if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() {
			return nil
		}
	}
	return ErrInsecureURL
}

// Send queues body for t and returns at once. It returns ErrInsecureURL,
// ErrQueueFull (the message is dropped, counted and logged) or ErrClosed.
// The values of ctx are kept but not its cancellation.
func (s *Sender) Send(ctx context.Context, t Target, body []byte) error {
	if err := s.CheckURL(t.URL); err != nil {
		s.o.Log.Warn("webhook refused", "target", t.Name, "err", err)
		return err
	}
	var b [16]byte
	if _, err := io.ReadFull(s.o.Rand, b[:]); err != nil {
		return fmt.Errorf("webhook: random: %w", err)
	}
	j := job{ctx: context.WithoutCancel(ctx), t: t, body: bytes.Clone(body), id: hex.EncodeToString(b[:])}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.shut {
		return ErrClosed
	}
	select {
	case s.ch <- j:
		return nil
	default:
		s.dropped.Add(1)
		s.o.Log.Warn("webhook dropped: queue full", "target", t.Name, "queue", cap(s.ch))
		return ErrQueueFull
	}
}

// Close stops accepting messages, tries each queued message once more
// without waiting between retries, and waits for the workers.
func (s *Sender) Close() error {
	s.mu.Lock()
	if !s.shut {
		s.shut = true
		close(s.stop)
		close(s.ch)
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// Stats returns the counters.
func (s *Sender) Stats() Stats {
	return Stats{Delivered: s.delivered.Load(), Failed: s.failed.Load(), Dropped: s.dropped.Load(), Retries: s.retries.Load()}
}

func (s *Sender) work() {
	defer s.wg.Done()
	for j := range s.ch {
		s.deliver(j)
	}
}

// deliver tries j up to Attempts times with exponential backoff.
func (s *Sender) deliver(j job) {
	wait := s.o.Backoff
	for attempt := 1; ; attempt++ {
		status, err := s.attempt(j)
		if err == nil && status/100 == 2 {
			s.delivered.Add(1)
			return
		}
		retry := err != nil || status >= 500 || status == http.StatusTooManyRequests || status == http.StatusRequestTimeout
		if !retry || attempt >= s.o.Attempts {
			s.failed.Add(1)
			s.o.Log.Warn("webhook not delivered", "target", j.t.Name, "delivery", j.id,
				"attempts", attempt, "status", status, "err", err)
			return
		}
		select {
		case <-s.stop:
			s.failed.Add(1)
			s.o.Log.Warn("webhook not delivered: shutting down", "target", j.t.Name, "delivery", j.id, "attempts", attempt)
			return
		case <-time.After(wait):
		}
		s.retries.Add(1)
		wait = min(2*wait, s.o.MaxBackoff)
	}
}

// attempt POSTs j once, signed with a fresh timestamp. Errors carry no URL.
func (s *Sender) attempt(j job) (int, error) {
	ctx, cancel := context.WithTimeout(j.ctx, s.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.t.URL, bytes.NewReader(j.body))
	if err != nil {
		return 0, errors.New("webhook: bad URL")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "resetbot-webhook")
	req.Header.Set(DeliveryHeader, j.id)
	req.Header.Set(SignatureHeader, Sign(j.t.Secret, s.o.Clock(), j.body))
	resp, err := s.o.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // *url.Error quotes the URL, which may hold a token
		}
		return 0, fmt.Errorf("webhook: post: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}
