package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/resetbot/resetbot/app"
	"github.com/resetbot/resetbot/core/channel"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/server"
)

// channelOpener is a channel plug-in's configuration that opens itself
// (bot/slack.Config, bot/teams.Config, bot/mattermost.Config,
// ivr/twilio.Settings): the registry (plugins.All) decodes channels.<key>
// into it, core/config validates it, and this file opens it with the narrow
// dependencies every channel gets. Nothing here names a channel plug-in.
type channelOpener interface {
	Open(ctx context.Context, d channel.Deps) (channel.Channel, error)
}

// pendingChannel is a channel to open, named by its configuration key.
type pendingChannel struct {
	key  string
	open func(ctx context.Context, d channel.Deps) (channel.Channel, error)
}

// channelsToOpen lists the channels to open, in their opening order: the
// enabled channel plug-in blocks in alphabetical order of their key
// (channels.mattermost, channels.slack, channels.teams, channels.twilio).
// The order is stable and is also outreach's default order of platforms
// (slack before teams).
func channelsToOpen(cfg *config.Config) ([]pendingChannel, error) {
	var out []pendingChannel
	for _, b := range cfg.Channels.Enabled() {
		o, ok := b.Channel.(channelOpener)
		if !ok {
			return nil, fmt.Errorf("channels.%s: the plug-in's configuration cannot open a channel (no Open(ctx, channel.Deps))", b.Key)
		}
		out = append(out, pendingChannel{key: b.Key, open: o.Open})
	}
	return out, nil
}

// mountChannels mounts the opened notifiers' own webhooks
// (app.NotifierRoutes: a code call's "press 1" action, served whether or not
// the phone channel is on), then opens every enabled channel, mounts its
// routes, registers its capabilities with the app (handoff starters,
// help-desk and chat posters, handoff watchers, outreach messengers) and
// starts it. The returned function shuts them down, in reverse order, within
// the server's shutdown budget.
func mountChannels(ctx context.Context, a *app.App, srv *server.Server, log *slog.Logger) (func(), error) {
	for pattern, h := range a.NotifierRoutes() {
		srv.Handle(pattern, h)
	}
	deps := a.ChannelDeps(log)
	pending, err := channelsToOpen(a.Config)
	if err != nil {
		return nil, err
	}
	var opened []channel.Channel
	stopAll := func() {
		for i := len(opened) - 1; i >= 0; i-- {
			// The queue drains share the server's shutdown budget.
			if err := opened[i].Shutdown(srv.ShutdownBudget()); err != nil {
				log.Warn("channel shutdown", "channel", opened[i].Name(), "err", err)
			}
		}
	}
	for _, c := range pending {
		ch, err := c.open(ctx, deps)
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
