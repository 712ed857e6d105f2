package app

import (
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/enrollpage"
)

// buildEnrollPages makes the one-time enrollment pages when a chat channel
// delivers enrollments by page (the default) and a public URL is set; the
// page's key is derived from keys.hmac for this purpose only.
func (a *App) buildEnrollPages(cfg *config.Config, opt Options, hmacKey []byte) error {
	ch := cfg.Channels
	wanted := (ch.Slack.Enabled && ch.Slack.EnrollPage()) || (ch.Teams.Enabled && ch.Teams.EnrollPage())
	if !wanted || cfg.Server.PublicURL == "" {
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
