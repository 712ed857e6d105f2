package config

import "strings"

// movedKeys are settings that moved to another place, by their old path:
// a file or environment variable still using one gets a problem naming the
// new place instead of a bare "unknown key".
var movedKeys = map[string]string{
	// The help-desk channels belong to each chat channel's own block, like
	// every other setting of the channel (issue 13).
	"handoff.help_desk_slack_channel": "channels.slack.help_desk_channel",
	"handoff.help_desk_teams_channel": "channels.teams.help_desk_channel",
}

// movedTo returns the problem for a setting at path that has moved, or "".
func movedTo(path string) string {
	to, ok := movedKeys[path]
	if !ok {
		return ""
	}
	env := EnvPrefix + strings.ToUpper(strings.ReplaceAll(to, ".", "__"))
	return "has moved to " + to + " (environment: " + env + "); move the value there"
}
