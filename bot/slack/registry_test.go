package slack_test

import (
	"github.com/resetbot/resetbot/bot/slack"
	"github.com/resetbot/resetbot/plugins"
)

// The demo app of the package's tests is configured with the real registry,
// as `resetbot serve` is.
func init() { slack.Registry = plugins.All }
