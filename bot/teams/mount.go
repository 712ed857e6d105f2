package teams

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/resetbot/resetbot/core/app"
	"github.com/resetbot/resetbot/core/dispatch"
	"github.com/resetbot/resetbot/core/handoff"
	"github.com/resetbot/resetbot/core/handoff/escalate"
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

// Mount registers the Teams handler on the public listener when the channel
// is enabled (nil, nil otherwise), and registers the Teams handoff starter,
// the help-desk escalation poster and the agents' live status cards with
// a.Handoffs. It refuses to mount with an empty app ID,
// even if configuration validation was bypassed: an empty audience would
// accept tokens minted for any bot. The returned stop drains the worker pool.
func Mount(_ context.Context, a *app.App, srv *server.Server, log *slog.Logger) (func(), error) {
	cfg := a.Config.Channels.Teams
	if !cfg.Enabled {
		return nil, nil
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.AppID == "" || cfg.TenantID == "" || cfg.AppPassword.Empty() {
		return nil, errors.New("teams: app_id, app_password and tenant_id are required")
	}
	pool := dispatch.New(poolWorkers, poolQueue, jobTimeout, log)
	// Replies and card updates reuse their TLS connections: one idle
	// connection per worker to the connector.
	bot, err := build(a, log, &http.Client{Timeout: cfg.CallTimeout(), Transport: server.Transport(poolWorkers)}, pool, false)
	if err != nil {
		pool.Close()
		return nil, err
	}
	if a.Outreach != nil {
		a.Outreach.Register(bot.Outreach(a.Outreach.Answers()))
	}
	srv.Handle(Route, bot)
	log.Info("teams channel mounted", "route", Route, "actions", cfg.ActionStyle(), "enroll_page", cfg.EnrollPage())
	// The queue drain shares the server's shutdown budget.
	if cfg.EnrollPage() {
		return func() { _ = pool.Shutdown(srv.ShutdownBudget()) }, nil
	}
	sctx, cancel := context.WithCancel(context.Background())
	swept := make(chan struct{})
	go func() { defer close(swept); bot.RunCleanups(sctx) }()
	return func() { cancel(); <-swept; _ = pool.Shutdown(srv.ShutdownBudget()) }, nil
}

// build wires a Bot from the app. insecure allows plain-HTTP serviceUrls for
// the package's tests only; Mount never sets it.
func build(a *app.App, log *slog.Logger, hc *http.Client, pool Submitter, insecure bool) (*Bot, error) {
	cfg := a.Config.Channels.Teams
	v, err := NewValidator(ValidatorOptions{MetadataURL: cfg.MetadataURL(), Issuer: cfg.TokenIssuer(),
		AppID: cfg.AppID, HTTP: hc})
	if err != nil {
		return nil, err
	}
	conn, err := NewConnector(ConnectorOptions{TokenURL: cfg.TokenURL(), ClientID: cfg.AppID,
		ClientSecret: cfg.AppPassword, Scope: cfg.TokenScope(), AllowedHosts: cfg.AllowedServiceHosts(),
		HTTP: hc, allowHTTP: insecure})
	if err != nil {
		return nil, err
	}
	opt := Options{Config: cfg, Engine: a.Engine, Messages: a.Messages, Tokens: a.Tokens, Store: a.Store,
		Pool: pool, Validator: v, Connector: conn, Log: log, CardTTL: a.Config.Sessions.AbsoluteTimeout,
		Audit: a.Audit, HelpDeskChannel: a.Config.Handoff.HelpDeskTeamsChannel, Accounts: a.Directory,
		Pages: a.EnrollPages}
	if a.Handoffs != nil {
		opt.Handoffs = a.Handoffs.Store
		opt.Lifter = a.Handoffs.Lifter
	}
	bot, err := New(opt)
	if err != nil {
		return nil, err
	}
	a.Posters.Set(Channel, bot.Poster)
	if a.Handoffs != nil {
		a.Handoffs.SetStarter(Channel, handoff.StarterFunc(bot.StartHandoff))
		a.Handoffs.Watch(handoff.ChangeFunc(bot.handoffChanged))
		if opt.HelpDeskChannel != "" {
			a.Handoffs.SetPoster(Channel, escalate.PosterFunc(bot.PostEscalation))
		}
	}
	return bot, nil
}
