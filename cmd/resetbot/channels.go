package main

import (
	"context"
	"log/slog"

	slackbot "github.com/resetbot/resetbot/bot/slack"
	teamsbot "github.com/resetbot/resetbot/bot/teams"
	"github.com/resetbot/resetbot/core/app"
	"github.com/resetbot/resetbot/core/server"
	ivrtwilio "github.com/resetbot/resetbot/ivr/twilio"
)

// channel mounts one channel adapter on the server when its configuration
// enables it. Each adapter package contributes one entry; `stop` is called on
// shutdown (Socket Mode connections, worker pools).
type channel struct {
	name  string
	mount func(ctx context.Context, a *app.App, srv *server.Server, log *slog.Logger) (stop func(), err error)
}

// channels is the explicit registry of channel adapters, in mount order.
var channels = []channel{
	{name: "slack", mount: slackbot.Mount},
	{name: "teams", mount: teamsbot.Mount},
	{name: "twilio", mount: ivrtwilio.Mount},
}

// mountChannels mounts every enabled channel; the returned function stops them.
func mountChannels(ctx context.Context, a *app.App, srv *server.Server, log *slog.Logger) (func(), error) {
	var stops []func()
	stopAll := func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	for _, c := range channels {
		stop, err := c.mount(ctx, a, srv, log)
		if err != nil {
			stopAll()
			return nil, err
		}
		if stop != nil {
			stops = append(stops, stop)
		}
	}
	return stopAll, nil
}
