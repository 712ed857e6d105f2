package twilio

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/resetbot/resetbot/core/channel"
	"github.com/resetbot/resetbot/core/plugin"
)

// Open builds the phone channel for `resetbot serve` from its settings: the
// IVR's webhooks. Twilio's code calls ("press 1 to hear your code") belong
// to the account's senders (core/notify/twilio), not to this channel; they
// are served whoever opens them, with the channel on or off.
func (s *Settings) Open(_ context.Context, d channel.Deps) (channel.Channel, error) {
	if err := plugin.Check(s, "channels.twilio", false).Err(); err != nil {
		return nil, err
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	h, err := New(d.Engine, d.Messages, configOf(d, *s))
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
