package teams

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/resetbot/resetbot/core/channel"
	"github.com/resetbot/resetbot/core/dispatch"
	"github.com/resetbot/resetbot/core/handoff"
	"github.com/resetbot/resetbot/core/handoff/escalate"
	"github.com/resetbot/resetbot/core/outreach"
	"github.com/resetbot/resetbot/core/server"
)

// Route is where the Azure Bot's messaging endpoint must point.
const Route = "POST /api/messages"

// Worker pool sizing: replies are a few HTTP calls each.
const (
	poolWorkers = 4
	poolQueue   = 64
	jobTimeout  = 60 * time.Second
)

// Open opens the channel from these settings (the plug-in opens itself:
// cmd/resetbot opens every enabled channel block the same way). A block
// that is not enabled opens nothing (nil, nil).
func (t *Config) Open(ctx context.Context, d channel.Deps) (channel.Channel, error) {
	if !t.Enabled {
		return nil, nil
	}
	return Open(ctx, d, *t)
}

// Open builds the Teams channel for `resetbot serve`: the messaging
// endpoint, the handoff starter, the help-desk poster and the agents' live
// status cards. It refuses an empty app ID, even if configuration
// validation was bypassed: an empty audience would accept tokens minted for
// any bot.
func Open(_ context.Context, d channel.Deps, s Config) (channel.Channel, error) {
	if s.AppID == "" || s.TenantID == "" || s.AppPassword.Empty() {
		return nil, errors.New("teams: app_id, app_password and tenant_id are required")
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	pool := dispatch.New(poolWorkers, poolQueue, jobTimeout, d.Log)
	// Replies and card updates reuse their TLS connections: one idle
	// connection per worker to the connector.
	tr := d.Transport
	if tr == nil {
		tr = server.Transport(poolWorkers)
	}
	bot, err := build(d, s, &http.Client{Timeout: s.CallTimeout(), Transport: tr}, pool, false)
	if err != nil {
		pool.Close()
		return nil, err
	}
	d.Log.Info("teams channel opened", "route", Route, "actions", s.ActionStyle(), "enroll_page", s.EnrollPage())
	return &opened{bot: bot, pool: pool, sweep: !s.EnrollPage()}, nil
}

// build makes a Bot from deps and settings. insecure allows plain-HTTP
// serviceUrls for the package's tests only; Open never sets it.
func build(d channel.Deps, s Config, hc *http.Client, pool Submitter, insecure bool) (*Bot, error) {
	v, err := NewValidator(ValidatorOptions{MetadataURL: s.MetadataURL(), Issuer: s.TokenIssuer(),
		AppID: s.AppID, HTTP: hc})
	if err != nil {
		return nil, err
	}
	conn, err := NewConnector(ConnectorOptions{TokenURL: s.TokenURL(), ClientID: s.AppID,
		ClientSecret: s.AppPassword, Scope: s.TokenScope(), AllowedHosts: s.AllowedServiceHosts(),
		HTTP: hc, allowHTTP: insecure})
	if err != nil {
		return nil, err
	}
	return New(Options{Config: s, Engine: d.Engine, Messages: d.Messages, Tokens: d.Tokens, Store: d.Store,
		Pool: pool, Validator: v, Connector: conn, Log: d.Log, CardTTL: d.SessionTTL, Audit: d.Audit,
		HelpDeskChannel: s.HelpDeskChannel, Accounts: d.Accounts, Pages: d.Pages, Handoffs: d.Handoffs, Lifter: d.Lifter})
}

// opened is the Bot as a core/channel.Channel, with every capability.
type opened struct {
	bot *Bot
	// pool is the worker pool Open made; nil when a test brings its own.
	pool *dispatch.Pool
	// sweep runs the enrollment QR cleanups (enroll delivery in chat).
	sweep  bool
	cancel context.CancelFunc
	swept  chan struct{}
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

func (o *opened) Routes() map[string]http.Handler { return map[string]http.Handler{Route: o.bot} }

// Start runs the cleanup sweep of enrollment QR codes posted in chat.
func (o *opened) Start(ctx context.Context) error {
	if !o.sweep {
		return nil
	}
	ctx, o.cancel = context.WithCancel(ctx)
	o.swept = make(chan struct{})
	go func() { defer close(o.swept); o.bot.RunCleanups(ctx) }()
	return nil
}

// Shutdown stops the sweep, drains the worker pool and shows the replies
// held back for their timing floor, within ctx.
func (o *opened) Shutdown(ctx context.Context) error {
	if o.cancel != nil {
		o.cancel()
		<-o.swept
	}
	var err error
	if o.pool != nil {
		err = o.pool.Shutdown(ctx)
	}
	return errors.Join(err, o.bot.waitHeld(ctx))
}

func (o *opened) StartHandoff(ctx context.Context, h handoff.Handoff) error {
	return o.bot.StartHandoff(ctx, h)
}

func (o *opened) HandoffChanged(ctx context.Context, h handoff.Handoff) { o.bot.handoffChanged(ctx, h) }

func (o *opened) HelpDesk() (channel.Poster, bool) {
	if o.bot.helpDesk == "" {
		return nil, false
	}
	return escalate.PosterFunc(o.bot.PostEscalation), true
}

func (o *opened) PostTo(target string) channel.Poster { return o.bot.Poster(target) }

func (o *opened) Outreach(a outreach.Answerer) outreach.DirectMessenger { return o.bot.Outreach(a) }
