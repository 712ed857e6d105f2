package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/resetbot/resetbot/app"
	slackbot "github.com/resetbot/resetbot/bot/slack"
	teamsbot "github.com/resetbot/resetbot/bot/teams"
	"github.com/resetbot/resetbot/core/channel"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/notify"
	notifytwilio "github.com/resetbot/resetbot/core/notify/twilio"
	"github.com/resetbot/resetbot/core/server"
	ivrtwilio "github.com/resetbot/resetbot/ivr/twilio"
)

// opener opens one channel adapter from the configuration; it returns nil,
// nil when the configuration does not enable it.
type opener func(ctx context.Context, d channel.Deps, cfg *config.Config) (channel.Channel, error)

// channels is the explicit registry of channel adapters, keyed by their
// configuration section (channels.<key>), in opening order: one line per
// adapter. The order is also outreach's default order of platforms.
var channels = []struct {
	key  string
	open opener
}{
	{key: "slack", open: openSlack},
	{key: "teams", open: openTeams},
	{key: "twilio", open: openTwilio},
}

// The openers below pick each adapter's settings out of the configuration,
// until the adapters decode their own section (issue 13, plug-in config).

func openSlack(ctx context.Context, d channel.Deps, cfg *config.Config) (channel.Channel, error) {
	if !cfg.Channels.Slack.Enabled {
		return nil, nil
	}
	return slackbot.Open(ctx, d, slackbot.Settings{SlackConfig: cfg.Channels.Slack,
		HelpDeskChannel: cfg.Handoff.HelpDeskSlackChannel})
}

func openTeams(ctx context.Context, d channel.Deps, cfg *config.Config) (channel.Channel, error) {
	if !cfg.Channels.Teams.Enabled {
		return nil, nil
	}
	return teamsbot.Open(ctx, d, teamsbot.Settings{TeamsConfig: cfg.Channels.Teams,
		HelpDeskChannel: cfg.Handoff.HelpDeskTeamsChannel})
}

func openTwilio(ctx context.Context, d channel.Deps, cfg *config.Config) (channel.Channel, error) {
	if !cfg.Channels.Twilio.Enabled {
		return nil, nil
	}
	return ivrtwilio.Open(ctx, d, cfg.Channels.Twilio)
}

// mountChannels opens every enabled channel, mounts its routes, registers
// its capabilities with the app (handoff starters, help-desk and chat
// posters, handoff watchers, outreach messengers) and starts it. The
// returned function shuts them down, in reverse order, within the server's
// shutdown budget.
func mountChannels(ctx context.Context, a *app.App, srv *server.Server, log *slog.Logger) (func(), error) {
	mountCodeCalls(a, srv, log)
	deps := a.ChannelDeps(log)
	var opened []channel.Channel
	stopAll := func() {
		for i := len(opened) - 1; i >= 0; i-- {
			// The queue drains share the server's shutdown budget.
			if err := opened[i].Shutdown(srv.ShutdownBudget()); err != nil {
				log.Warn("channel shutdown", "channel", opened[i].Name(), "err", err)
			}
		}
	}
	for _, c := range channels {
		ch, err := c.open(ctx, deps, a.Config)
		if err != nil {
			stopAll()
			return nil, fmt.Errorf("channels.%s: %w", c.key, err)
		}
		if ch == nil {
			continue
		}
		opened = append(opened, ch)
		for pattern, h := range ch.Routes() {
			srv.Handle(pattern, h)
		}
		a.AddChannel(ch)
		if err := ch.Start(ctx); err != nil {
			stopAll()
			return nil, fmt.Errorf("channels.%s: start: %w", c.key, err)
		}
	}
	return stopAll, nil
}

// mountCodeCalls serves the "press 1" action of Twilio's code calls
// whenever Twilio places them, even with the phone channel off: it belongs
// to the voice notifier, not to a channel.
func mountCodeCalls(a *app.App, srv *server.Server, log *slog.Logger) {
	cfg := a.Config
	tc := cfg.Channels.Twilio
	if cfg.Notify.SMS.Provider != "twilio" || cfg.Notify.Delivers(notify.ChannelVoice) || !cfg.Factors.Has(config.FactorVoice) ||
		tc.AccountSID == "" || tc.AuthToken.Empty() || tc.FromNumber == "" || cfg.Server.PublicURL == "" {
		return
	}
	srv.Handle(http.MethodPost+" "+notifytwilio.CodePath, &notifytwilio.CodeHandler{
		Auth:  notifytwilio.NewWebhookAuth(cfg.Server.PublicURL, tc.AccountSID, tc.AuthToken, log),
		Store: a.Store, Key: notifytwilio.CodeKey(tc.AuthToken), Messages: a.Messages, Log: log})
}
