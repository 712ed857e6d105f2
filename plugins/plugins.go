// Package plugins is the registry of every plug-in resetbot is built with:
// directories, stores, notifiers, channels and verification factors, one
// line each. It is the only place that names them all; the binary passes All() to config.Load, which
// decodes each plug-in's block into the plug-in's own configuration type, and
// the composition root opens them from those values.
//
// Adding a plug-in is one new package plus one line here (docs/extending.md).
// Nothing below this package imports it: it sits beside cmd/ at the top of the
// layering, above core, the flows and the channel adapters.
package plugins

import (
	"github.com/resetbot/resetbot/bot/mattermost"
	"github.com/resetbot/resetbot/bot/slack"
	"github.com/resetbot/resetbot/bot/teams"
	"github.com/resetbot/resetbot/core/directory/ad"
	"github.com/resetbot/resetbot/core/directory/ldap"
	"github.com/resetbot/resetbot/core/directory/memory"
	"github.com/resetbot/resetbot/core/identity/code/codefactor"
	"github.com/resetbot/resetbot/core/identity/totp"
	"github.com/resetbot/resetbot/core/notify/email"
	"github.com/resetbot/resetbot/core/notify/outbox"
	"github.com/resetbot/resetbot/core/plugin"
	"github.com/resetbot/resetbot/core/store/bolt"
	storemem "github.com/resetbot/resetbot/core/store/memory"
	"github.com/resetbot/resetbot/core/store/redis"
	ivrtwilio "github.com/resetbot/resetbot/ivr/twilio"
)

// All returns the registry of every built-in plug-in. Each call returns a
// fresh map, so a test may add a fake without affecting others.
func All() plugin.Registry {
	return plugin.Registry{
		plugin.Directory: {
			"memory": memory.NewConfig,
			"ldap":   ldap.NewConfig,
			"ad":     ad.NewConfig,
		},
		plugin.FanoutTarget: {
			"ldap": ldap.NewFanoutConfig,
			"ad":   ad.NewFanoutConfig,
		},
		plugin.Store: {
			"memory": storemem.NewConfig,
			"bolt":   bolt.NewConfig,
			"redis":  redis.NewConfig,
		},
		plugin.Notifier: {
			"email":  email.NewConfig,
			"outbox": outbox.NewConfig,
		},
		plugin.Channel: {
			"mattermost": mattermost.NewConfig,
			"slack":      slack.NewConfig,
			"teams":      teams.NewConfig,
			"twilio":     ivrtwilio.NewSettings,
		},
		plugin.Factor: {
			"totp":  totp.NewConfig,
			"sms":   codefactor.SMS,
			"voice": codefactor.Voice,
			"email": codefactor.Email,
		},
	}
}
