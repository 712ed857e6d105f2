package twilio

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/resetbot/resetbot/core/app"
	"github.com/resetbot/resetbot/core/config"
	notifytwilio "github.com/resetbot/resetbot/core/notify/twilio"
	"github.com/resetbot/resetbot/core/server"
)

// Mount registers the phone channel on the public server (the channel
// registry in cmd/resetbot calls it). The code call's "press 1" action is
// mounted whenever Twilio places code calls, even with the IVR off; the IVR
// webhooks only when channels.twilio.enabled is set. Nothing needs stopping.
func Mount(_ context.Context, a *app.App, srv *server.Server, log *slog.Logger) (func(), error) {
	cfg := a.Config
	tc := cfg.Channels.Twilio
	if codeCalls(cfg) {
		srv.Handle(http.MethodPost+" "+notifytwilio.CodePath, &notifytwilio.CodeHandler{
			Auth:  notifytwilio.NewWebhookAuth(cfg.Server.PublicURL, tc.AccountSID, tc.AuthToken, log),
			Store: a.Store, Key: notifytwilio.CodeKey(tc.AuthToken), Messages: a.Messages, Log: log})
	}
	if !tc.Enabled {
		return nil, nil
	}
	h, err := New(a.Engine, a.Messages, configOf(a, log))
	if err != nil {
		return nil, err
	}
	for _, p := range h.Paths() {
		srv.Handle(http.MethodPost+" "+p, h)
	}
	log.Info("phone channel mounted", "webhook", cfg.Server.PublicURL+PathIncoming)
	return h.Close, nil
}

// configOf is the IVR's configuration in the built app a.
func configOf(a *app.App, log *slog.Logger) Config {
	cfg := a.Config
	tc := cfg.Channels.Twilio
	return Config{PublicURL: cfg.Server.PublicURL, AccountSID: tc.AccountSID,
		AuthToken: tc.AuthToken, HelpDesk: tc.HelpDeskNumber, Languages: tc.Languages,
		GatherTimeout: tc.GatherTimeout, Blocked: tc.BlockedCallers, Log: log, Audit: a.Audit,
		Numbers: tc.Numbers, Store: a.Store, CallerKey: a.CallerKey, LanguageMemory: tc.LanguageMemory}
}

// codeCalls reports whether Twilio places code calls in this configuration.
func codeCalls(cfg *config.Config) bool {
	tc := cfg.Channels.Twilio
	return cfg.Notify.SMS.Provider == "twilio" && !cfg.Notify.Outbox && cfg.Factors.Has(config.FactorVoice) &&
		tc.AccountSID != "" && !tc.AuthToken.Empty() && tc.FromNumber != "" && cfg.Server.PublicURL != ""
}
