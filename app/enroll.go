package app

import (
	"github.com/resetbot/resetbot/core/channel"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/enrollpage"
)

// buildEnrollPages makes the one-time enrollment pages when an enabled
// channel shows enrollments through them (its settings are a
// channel.PageUser saying so) and a public URL is set; the page's key is
// derived from keys.hmac for this purpose only.
func (a *App) buildEnrollPages(cfg *config.Config, opt Options, hmacKey []byte) error {
	if !usesPages(&cfg.Channels) || cfg.Server.PublicURL == "" {
		return nil
	}
	p, err := enrollpage.New(enrollpage.Options{Store: a.Store, Key: derive(hmacKey, "resetbot enrollment pages"),
		PublicURL: cfg.Server.PublicURL, Texts: a.Messages, Audit: a.Audit, Log: opt.Log, Clock: opt.Clock, Rand: opt.Rand})
	if err != nil {
		return err
	}
	a.EnrollPages = p
	return nil
}

// usesPages reports whether an enabled channel's settings say the channel
// shows enrollments through the pages (channel.PageUser): the root asks
// every enabled block, so it names no channel.
func usesPages(c *config.ChannelsConfig) bool {
	for _, b := range c.Enabled() {
		if u, ok := b.Channel.(channel.PageUser); ok && u.EnrollPage() {
			return true
		}
	}
	return false
}
