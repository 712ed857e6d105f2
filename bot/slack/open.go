package slack

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/resetbot/resetbot/core/channel"
	"github.com/resetbot/resetbot/core/handoff"
	"github.com/resetbot/resetbot/core/outreach"
)

// apiTimeout bounds each Web API call when deps bring their own transport.
const apiTimeout = 10 * time.Second

// Open opens the channel from these settings (the plug-in opens itself:
// cmd/resetbot opens every enabled channel block the same way). A block
// that is not enabled opens nothing (nil, nil).
func (s *Config) Open(ctx context.Context, d channel.Deps) (channel.Channel, error) {
	if !s.Enabled {
		return nil, nil
	}
	return Open(ctx, d, *s)
}

// Open builds the Slack channel for `resetbot serve`: Events API routes, or a
// Socket Mode connection started by Start. It contacts nobody.
func Open(_ context.Context, d channel.Deps, s Config) (channel.Channel, error) {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	o := Options{Config: s, PublicURL: d.PublicURL, Engine: d.Engine, Messages: d.Messages,
		Tokens: d.Tokens, Store: d.Store, Log: d.Log, Audit: d.Audit, Pages: d.Pages,
		HelpDeskChannel: s.HelpDeskChannel, APIURL: s.APIBase(), Accounts: d.Accounts,
		Handoffs: d.Handoffs, Lifter: d.Lifter}
	if d.Transport != nil {
		o.HTTPClient = &http.Client{Timeout: apiTimeout, Transport: d.Transport}
	}
	b, err := New(o)
	if err != nil {
		return nil, err
	}
	return &opened{b: b, socket: s.SocketMode}, nil
}

// opened is the Bot as a core/channel.Channel, with every capability.
type opened struct {
	b      *Bot
	socket bool
	cancel context.CancelFunc
	done   chan struct{}
}

var (
	_ channel.Channel           = (*opened)(nil)
	_ channel.HandoffStarter    = (*opened)(nil)
	_ channel.HandoffWatcher    = (*opened)(nil)
	_ channel.HelpDeskPoster    = (*opened)(nil)
	_ channel.ChatPoster        = (*opened)(nil)
	_ channel.OutreachMessenger = (*opened)(nil)
)

func (o *opened) Name() string { return Channel }

// Routes are the Events API endpoints; none in Socket Mode.
func (o *opened) Routes() map[string]http.Handler {
	if o.socket {
		return nil
	}
	return o.b.Routes()
}

// Start opens the Socket Mode connection (Socket Mode only); it reconnects
// until ctx is cancelled or Shutdown.
func (o *opened) Start(ctx context.Context) error {
	if !o.socket {
		return nil
	}
	ctx, o.cancel = context.WithCancel(ctx)
	o.done = make(chan struct{})
	go func() {
		defer close(o.done)
		if err := o.b.RunSocketMode(ctx); err != nil && !errors.Is(err, context.Canceled) {
			o.b.log.Error("slack socket mode stopped", "err", err)
		}
	}()
	return nil
}

// Shutdown closes the Socket Mode connection, then drains queued turns and
// status posts within ctx.
func (o *opened) Shutdown(ctx context.Context) error {
	if o.cancel != nil {
		o.cancel()
		<-o.done
	}
	return o.b.Shutdown(ctx)
}

func (o *opened) StartHandoff(ctx context.Context, h handoff.Handoff) error {
	return o.b.startHandoff(ctx, h)
}

func (o *opened) HandoffChanged(ctx context.Context, h handoff.Handoff) { o.b.status.Changed(ctx, h) }

func (o *opened) HelpDesk() (channel.Poster, bool) {
	if o.b.o.HelpDeskChannel == "" {
		return nil, false
	}
	return o.b.Poster(o.b.o.HelpDeskChannel), true
}

func (o *opened) PostTo(target string) channel.Poster { return o.b.Poster(target) }

func (o *opened) Outreach(a outreach.Answerer) outreach.DirectMessenger { return o.b.Outreach(a) }
