package mattermost_test

import (
	"github.com/resetbot/resetbot/bot/mattermost"
	"github.com/resetbot/resetbot/plugins"
)

// The demo app of the end-to-end tests is configured with the real
// registry, as `resetbot serve` is.
func init() { mattermost.Registry = plugins.All }
