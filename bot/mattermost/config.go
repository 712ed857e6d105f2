package mattermost

import (
	"fmt"
	"github.com/resetbot/resetbot/core/plugin"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/resetbot/resetbot/bot/chatid"
	"github.com/resetbot/resetbot/core/secret"
)

// Config is the channels.mattermost block. The adapter owns it: it is
// decoded, defaulted and validated here, and nothing else in resetbot
// defines these settings.
type Config struct {
	Enabled bool `yaml:"enabled"`
	// URL is the Mattermost server's base URL (https://chat.example.com).
	// The bot token is sent there, so it must be https (plain http only to
	// a loopback address).
	URL string `yaml:"url"`
	// BotToken is the bot account's access token: it authenticates the REST
	// calls and the WebSocket.
	BotToken secret.String `yaml:"bot_token"`
	// CallbackKey keys the HMAC tokens placed in button contexts and dialog
	// states (at least 32 bytes). Mattermost does not sign the callbacks it
	// relays, so this key is what authenticates them.
	CallbackKey secret.String `yaml:"callback_key"`
	// CallbackURL is the base URL at which the Mattermost server reaches
	// resetbot's callback routes (default: the server's public URL). It is
	// often an internal address; Mattermost must allow it
	// (ServiceSettings.AllowedUntrustedInternalConnections).
	CallbackURL string `yaml:"callback_url"`
	// TeamIDs, when set, is the allowlist of teams: only members of one of
	// them are served.
	TeamIDs []string `yaml:"team_ids"`
	// HelpDeskChannel is the ID of the channel escalation packets are
	// posted to; empty: Mattermost is no escalation destination.
	HelpDeskChannel string `yaml:"help_desk_channel"`
	// AllowGuests lets Mattermost guest accounts use the bot.
	AllowGuests bool `yaml:"allow_guests"`
	// IdentityMapping maps the Mattermost account's email, once the server
	// has verified it, to a directory account (default: email against mail).
	IdentityMapping chatid.Mapping `yaml:"identity_mapping"`
	// Workers and Queue size the pool that runs turns (defaults 16 and 256).
	Workers int `yaml:"workers"`
	Queue   int `yaml:"queue"`
	// TokenTTL is how long buttons and dialogs stay usable (default 30m).
	TokenTTL time.Duration `yaml:"token_ttl"`
}

// Defaults for Config.
const (
	DefaultWorkers  = 16
	DefaultQueue    = 256
	DefaultTokenTTL = 30 * time.Minute
	minCallbackKey  = 32
)

// withDefaults returns c with empty settings defaulted.
func (c Config) withDefaults() Config {
	if c.Workers <= 0 {
		c.Workers = DefaultWorkers
	}
	if c.Queue <= 0 {
		c.Queue = DefaultQueue
	}
	if c.TokenTTL <= 0 {
		c.TokenTTL = DefaultTokenTTL
	}
	c.IdentityMapping = c.IdentityMapping.WithDefaults()
	return c
}

// Check reports every problem of an enabled configuration, each with the
// path of its key below path ("channels.mattermost"), so that check-config
// and serve report the same problems from this one validator.
func (c Config) Check(path string, report func(path, msg string)) {
	if !c.Enabled {
		return
	}
	at := func(k string) string { return path + "." + k }
	if msg := checkURL(c.URL, true); msg != "" {
		report(at("url"), msg)
	}
	if c.BotToken.Empty() {
		report(at("bot_token"), "is required")
	}
	if c.CallbackKey.Len() < minCallbackKey {
		report(at("callback_key"), "must be at least 32 bytes (it authenticates button and dialog callbacks)")
	}
	if c.CallbackURL != "" {
		if msg := checkURL(c.CallbackURL, false); msg != "" {
			report(at("callback_url"), msg)
		}
	}
	for i, t := range c.TeamIDs {
		if !validID(t) {
			report(at("team_ids")+"["+strconv.Itoa(i)+"]", "is not a Mattermost ID (26 lowercase letters and digits)")
		}
	}
	if c.HelpDeskChannel != "" && !validID(c.HelpDeskChannel) {
		report(at("help_desk_channel"), "is not a Mattermost channel ID (26 lowercase letters and digits)")
	}
	if c.Workers < 0 || c.Queue < 0 {
		report(at("workers"), "workers and queue must not be negative")
	}
	if c.TokenTTL < 0 || c.TokenTTL > 24*time.Hour {
		report(at("token_ttl"), "must be between 0 (default 30m) and 24h")
	}
	c.IdentityMapping.Validate(reporter(report), at("identity_mapping"), chatid.ChatSources)
}

// reporter lets the shared identity-mapping validation (bot/chatid) report
// through Check's callback.
type reporter func(path, msg string)

func (r reporter) Errorf(path, format string, args ...any) { r(path, fmt.Sprintf(format, args...)) }
func (r reporter) Warnf(string, string, ...any)            {}
func (r reporter) Given(string) bool                       { return false }
func (r reporter) Production() bool                        { return true }
func (r reporter) FileExists(string, string)               {}

// checkURL validates a base URL: absolute, no credentials, query or
// fragment; https unless it points at a loopback address (or plain http is
// allowed: the callback URL carries no credential, only signed tokens).
func checkURL(raw string, secure bool) string {
	if raw == "" {
		return "is required"
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "must be an absolute http(s) URL"
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "must not carry credentials, a query or a fragment"
	}
	if secure && u.Scheme == "http" && !plugin.Loopback(u.Hostname()) {
		return "must be https (the bot token is sent there); http only to a loopback address"
	}
	return ""
}

// validID reports whether s looks like a Mattermost ID: 26 characters of
// lowercase base32.
func validID(s string) bool {
	if len(s) != 26 {
		return false
	}
	return strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789") == ""
}
