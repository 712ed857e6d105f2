package slack

import (
	"context"
	"errors"
	"log/slog"

	"github.com/resetbot/resetbot/core/app"
	"github.com/resetbot/resetbot/core/server"
)

// Mount starts the Slack channel for `resetbot serve` when the configuration
// enables it: HTTP routes in Events API mode, or a Socket Mode connection.
// It returns nil, nil when Slack is disabled; stop closes the connection and
// drains queued turns.
func Mount(ctx context.Context, a *app.App, srv *server.Server, log *slog.Logger) (stop func(), err error) {
	c := a.Config.Channels.Slack
	if !c.Enabled {
		return nil, nil
	}
	b, err := New(Options{Config: c, PublicURL: a.Config.Server.PublicURL, Engine: a.Engine, Messages: a.Messages,
		Tokens: a.Tokens, Store: a.Store, Log: log, Audit: a.Audit, Pages: a.EnrollPages, HelpDeskChannel: a.Config.Handoff.HelpDeskSlackChannel,
		APIURL: c.APIBase(), Accounts: a.Directory})
	if err != nil {
		return nil, err
	}
	a.Posters.Set(Channel, b.Poster)
	if a.Outreach != nil {
		a.Outreach.Register(b.Outreach(a.Outreach.Answers()))
	}
	if a.Handoffs != nil {
		b.o.Handoffs = a.Handoffs.Store
		b.o.Lifter = a.Handoffs.Lifter
		b.Attach(a.Handoffs)
	}
	if !c.SocketMode {
		for pattern, h := range b.Routes() {
			srv.Handle(pattern, h)
		}
		// The queue drain shares the server's shutdown budget.
		return func() { _ = b.Shutdown(srv.ShutdownBudget()) }, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := b.RunSocketMode(ctx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("slack socket mode stopped", "err", err)
		}
	}()
	return func() { cancel(); <-done; _ = b.Shutdown(srv.ShutdownBudget()) }, nil
}
