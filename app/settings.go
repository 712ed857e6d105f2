package app

import (
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/handoff/apikey"
	"github.com/resetbot/resetbot/core/server"
)

// Core packages that never import the configuration (core/server,
// core/handoff/apikey) take their own settings; the composition root maps
// each from its section here.

// ServerSettings maps the server section to the listeners' own settings:
// core/server takes its settings, never the configuration. Every setting
// but public_url (used by the channels and pages, not the listeners) is
// passed on; memory_limit is the process's, applied by serve.
func ServerSettings(c config.ServerConfig) server.Settings {
	return server.Settings{Listen: c.Listen, AdminListen: c.AdminListen, Pprof: c.Pprof,
		ReadHeaderTimeout: c.ReadHeaderTimeout, ReadTimeout: c.ReadTimeout, WriteTimeout: c.WriteTimeout,
		IdleTimeout: c.IdleTimeout, ShutdownTimeout: c.ShutdownTimeout, ReadyTimeout: c.ReadyTimeout,
		MaxBodyBytes: c.MaxBodyBytes, MaxInflight: c.MaxInflight, TLSCertFile: c.TLSCertFile, TLSKeyFile: c.TLSKeyFile}
}

// APIKeySettings maps handoff.api_keys to the key set's own settings
// (apikey.Load refuses a scope it does not know, so the configuration's
// scope names and the API's cannot drift apart unnoticed).
func APIKeySettings(keys []config.HandoffAPIKey) []apikey.Setting {
	out := make([]apikey.Setting, 0, len(keys))
	for _, k := range keys {
		out = append(out, apikey.Setting{ID: k.ID, Hash: k.Hash, Scopes: k.Scopes, OUs: k.OUs,
			WebhookURL: k.WebhookURL, WebhookSecret: k.WebhookSecret})
	}
	return out
}
