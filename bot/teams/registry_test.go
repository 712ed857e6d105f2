package teams_test

import (
	"github.com/resetbot/resetbot/bot/teams"
	"github.com/resetbot/resetbot/plugins"
)

// The demo app of the package's tests is configured with the real registry,
// as `resetbot serve` is.
func init() { teams.Registry = plugins.All }
