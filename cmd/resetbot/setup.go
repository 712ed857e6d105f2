package main

import (
	"fmt"
	"io"
	"os"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/plugins"
)

// loadForSetup loads the configuration for a setup artefact (the Slack
// manifest, the Teams package). Those come first in a setup: the platform
// issues the bot token, signing secret or app password only after the
// manifest or package exists, and none of them is in the artefact. So both
// commands agree: an unreadable file fails, other problems are printed as
// warnings, and each command then checks only the settings its artefact is
// built from.
func loadForSetup(cmd, path string, errOut io.Writer) (*config.Config, bool) {
	cfg, probs := config.Load(path, os.Environ(), plugins.All())
	if cfg == nil {
		fmt.Fprintf(errOut, "%s: %s\n", cmd, probs.Error())
		return nil, false
	}
	if len(probs) > 0 {
		fmt.Fprintf(errOut, "%s: warning: the configuration is not complete yet (check-config before serve):\n%s\n", cmd, probs.Error())
	}
	return cfg, true
}
