package escalate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/handoff/webhook"
)

// Poster posts plain text into a help-desk channel. Chat channel adapters
// implement it for their help-desk target (core/channel.HelpDeskPoster).
// Post must honour ctx and be safe for concurrent use.
type Poster interface {
	Post(ctx context.Context, text string) error
}

// PosterFunc adapts a function to Poster.
type PosterFunc func(ctx context.Context, text string) error

// Post implements Poster.
func (f PosterFunc) Post(ctx context.Context, text string) error { return f(ctx, text) }

// NameSent is the audit event of a packet handed to its destinations (the
// flow itself writes audit.NameEscalation when it escalates).
const NameSent = "escalation.sent"

// Options configures a Sink.
type Options struct {
	// Ticket is the ticket webhook; URL empty for none. Sender delivers it
	// (required with a Ticket URL).
	Ticket webhook.Target
	Sender *webhook.Sender
	// Posters by name: the help-desk posters known at build time. Chat
	// channels opened later add theirs with AddPoster.
	Posters map[string]Poster
	// Queue bounds posts waiting for a Poster (64); PostTimeout bounds each
	// post (10s).
	Queue       int
	PostTimeout time.Duration
	Audit       audit.Sink
	Log         *slog.Logger
}

// Sink sends escalation packets. Escalate never waits on the network: the
// ticket goes through the webhook Sender's queue and posts through the
// Sink's own bounded queue. Call Close to stop it.
type Sink struct {
	o     Options
	posts chan post
	wg    sync.WaitGroup
	mu    sync.RWMutex
	shut  bool
	// posters are the help-desk destinations by name, under mu.
	posters map[string]Poster
}

// AddPoster adds (or replaces) the help-desk poster of the named channel:
// packets escalated from now on are posted there too. Chat channels
// register when they are opened, after the Sink is built.
func (s *Sink) AddPoster(name string, p Poster) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.posters[name] = p
}

type post struct {
	ctx  context.Context
	name string
	p    Poster
	text string
	ref  string
}

// ErrQueueFull means a post was dropped because its queue was full.
var ErrQueueFull = errors.New("escalate: queue full")

// New starts the Sink.
func New(o Options) *Sink {
	if o.Queue <= 0 {
		o.Queue = 64
	}
	if o.PostTimeout <= 0 {
		o.PostTimeout = 10 * time.Second
	}
	if o.Audit == nil {
		o.Audit = audit.Discard
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	s := &Sink{o: o, posts: make(chan post, o.Queue), posters: maps.Clone(o.Posters)}
	if s.posters == nil {
		s.posters = map[string]Poster{}
	}
	s.wg.Add(1)
	go s.work()
	return s
}

// ticketBody is the ticket webhook's JSON: the packet plus its text.
type ticketBody struct {
	Packet
	Text string `json:"text"`
}

// Escalate sanitizes p and queues it to the ticket webhook and every Poster.
// It returns the joined errors of destinations that could not be queued;
// delivery failures later are logged and audited (send.failed).
func (s *Sink) Escalate(ctx context.Context, p Packet) error {
	p = Sanitize(p)
	text := Render(p)
	var errs []error
	var dests []string
	if s.o.Ticket.URL != "" {
		dests = append(dests, "ticket")
		body, err := json.Marshal(ticketBody{Packet: p, Text: text})
		if err == nil {
			err = s.o.Sender.Send(ctx, s.o.Ticket, body)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("ticket webhook: %w", err))
		}
	}
	s.mu.RLock()
	posters := maps.Clone(s.posters)
	s.mu.RUnlock()
	for _, n := range slices.Sorted(maps.Keys(posters)) {
		dests = append(dests, n)
		if err := s.enqueue(ctx, post{name: n, p: posters[n], text: text, ref: p.Ref}); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", n, err))
		}
	}
	outcome := audit.OutcomeSuccess
	if len(errs) > 0 {
		outcome = audit.OutcomeError
	}
	s.write(ctx, audit.Event{Name: NameSent, Ref: p.Ref, Channel: p.Channel, Actor: p.User, Flow: p.Flow,
		Reason: p.Reason, Outcome: outcome, Fields: map[string]string{"destinations": strings.Join(dests, ",")}})
	return errors.Join(errs...)
}

func (s *Sink) enqueue(ctx context.Context, p post) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.shut {
		return webhook.ErrClosed
	}
	p.ctx = context.WithoutCancel(ctx)
	select {
	case s.posts <- p:
		return nil
	default:
		s.o.Log.Warn("escalation post dropped: queue full", "destination", p.name, "ref", p.ref)
		return ErrQueueFull
	}
}

// Close stops accepting packets, posts those queued and waits.
func (s *Sink) Close() error {
	s.mu.Lock()
	if !s.shut {
		s.shut = true
		close(s.posts)
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

func (s *Sink) work() {
	defer s.wg.Done()
	for p := range s.posts {
		if err := s.deliver(p); err != nil {
			s.o.Log.Warn("escalation post failed", "destination", p.name, "ref", p.ref, "err", err)
			s.write(p.ctx, audit.Event{Name: audit.NameSendFailed, Ref: p.ref, Outcome: audit.OutcomeError,
				Fields: map[string]string{"destination": p.name, "kind": "escalation"}})
		}
	}
}

// deliver posts once; a panicking Poster is recovered so one bad post
// cannot stop the worker.
func (s *Sink) deliver(p post) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("escalate: poster panicked (%T)", r)
		}
	}()
	ctx, cancel := context.WithTimeout(p.ctx, s.o.PostTimeout)
	defer cancel()
	return p.p.Post(ctx, p.text)
}

func (s *Sink) write(ctx context.Context, e audit.Event) {
	if err := s.o.Audit.Write(ctx, e); err != nil {
		s.o.Log.Error("escalation audit not recorded", "ref", e.Ref, "err", err)
	}
}
