package twilio

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/resetbot/resetbot/core/channel"
	"github.com/resetbot/resetbot/core/config"
)

// Settings are the phone channel's configuration (channels.twilio). This is
// the one place the adapter reads configuration types; issue 13's plug-in
// configuration moves them into this package.
type Settings = config.TwilioConfig

// Open builds the phone channel for `resetbot serve`: the IVR's webhooks.
// Twilio's code calls ("press 1 to hear your code") belong to the SMS and
// voice notifier (core/notify/twilio), not to this channel.
func Open(_ context.Context, d channel.Deps, s Settings) (channel.Channel, error) {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	h, err := New(d.Engine, d.Messages, configOf(d, s))
	if err != nil {
		return nil, err
	}
	d.Log.Info("phone channel opened", "webhook", d.PublicURL+PathIncoming)
	return opened{h}, nil
}

// configOf is the IVR's configuration from deps and settings.
func configOf(d channel.Deps, s Settings) Config {
	c := Config{PublicURL: d.PublicURL, AccountSID: s.AccountSID,
		AuthToken: s.AuthToken, HelpDesk: s.HelpDeskNumber, Languages: s.Languages,
		GatherTimeout: s.GatherTimeout, Blocked: s.BlockedCallers, Log: d.Log, Audit: d.Audit,
		Numbers: s.Numbers, CallerKey: d.CallerKey, LanguageMemory: s.LanguageMemory}
	if d.Store != nil {
		c.Store = d.Store
	}
	return c
}

// opened is the Handler as a core/channel.Channel: routes only, no
// capability (a phone call is reached by its caller).
type opened struct{ h *Handler }

var _ channel.Channel = opened{}

func (o opened) Name() string { return Channel }

func (o opened) Routes() map[string]http.Handler {
	r := map[string]http.Handler{}
	for _, p := range o.h.Paths() {
		r[http.MethodPost+" "+p] = o.h
	}
	return r
}

func (o opened) Start(context.Context) error { return nil }

// Shutdown stops the language memory's writer; turns end with their
// webhook requests.
func (o opened) Shutdown(context.Context) error {
	o.h.Close()
	return nil
}
