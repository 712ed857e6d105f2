package mattermost

import (
	"context"
	"fmt"

	"github.com/resetbot/resetbot/core/channel"
	"github.com/resetbot/resetbot/core/plugin"
)

// NewConfig returns the channel's settings with their defaults: the
// registry entry (plugins.All) the configuration framework decodes
// channels.mattermost into.
func NewConfig() plugin.Config {
	c := Config{}.withDefaults()
	return &c
}

// Validate reports every problem of the block to the configuration
// framework (check-config and serve share this one validator).
func (c *Config) Validate(ch plugin.Checker, path string) {
	c.Check(path, func(p, msg string) { ch.Errorf(p, "%s", msg) })
}

// Open opens the channel from these settings: the plug-in opens itself,
// so the composition root needs no code of its own for it.
func (c *Config) Open(ctx context.Context, d channel.Deps) (channel.Channel, error) {
	return Open(ctx, d, c)
}

// The channel's answers to the configuration's cross-section checks
// (core/config.Channel and its optional interfaces).

// ChannelName is the engine name ("mattermost"): sessions, handoffs,
// factors.require and chat destinations use it.
func (c *Config) ChannelName() string { return Name }

// HelpDeskTarget is the channel escalation packets go to ("" for none).
func (c *Config) HelpDeskTarget() string { return c.HelpDeskChannel }

// CheckChatTarget says what is wrong with target as a channel to post
// alarms and reports to, or "".
func (c *Config) CheckChatTarget(target string) string {
	if !validID(target) {
		return "must be a Mattermost channel ID (26 lowercase letters and digits)"
	}
	return ""
}

var (
	_ plugin.Config          = (*Config)(nil)
	_ channel.PageUser       = (*Config)(nil)
	_ channel.Channel        = (*Bot)(nil)
	_ channel.ChatPoster     = (*Bot)(nil)
	_ channel.HelpDeskPoster = (*Bot)(nil)
)

// Open builds the Mattermost channel from its settings and the narrow
// dependencies every channel gets. It contacts nobody: Start connects. A
// block that is not enabled opens nothing (nil, nil).
func Open(_ context.Context, d channel.Deps, cfg *Config) (channel.Channel, error) {
	if cfg == nil || !cfg.Enabled {
		return nil, nil
	}
	c := *cfg
	if d.SessionTTL > 0 && (c.TokenTTL <= 0 || c.TokenTTL > d.SessionTTL) {
		// A button never outlives the conversation it belongs to.
		c.TokenTTL = d.SessionTTL
	}
	o := Options{Config: c, Engine: d.Engine, Messages: d.Messages, Store: d.Store, PublicURL: d.PublicURL,
		Transport: d.Transport, Audit: d.Audit, Log: d.Log}
	if d.Accounts != nil {
		o.Accounts = d.Accounts
	}
	if d.Pages != nil {
		o.Pages = d.Pages
	}
	b, err := New(o)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	return b, nil
}
