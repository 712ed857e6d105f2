package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	slackbot "github.com/resetbot/resetbot/bot/slack"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/plugin"
	"github.com/resetbot/resetbot/plugins"
)

// runSlackManifest prints the Slack app manifest for the configuration:
// paste it into api.slack.com/apps → Create New App → From a manifest. It
// needs server.public_url (unless Socket Mode); missing secrets are only
// warnings (see loadForSetup).
func runSlackManifest(_ context.Context, args []string) int {
	fs := flag.NewFlagSet("slack-manifest", flag.ContinueOnError)
	path := fs.String("config", "", "configuration file (YAML); empty uses the built-in demo configuration")
	publicURL := fs.String("public-url", "", "override server.public_url (without a config: empty means Socket Mode)")
	asJSON := fs.Bool("json", false, "print JSON instead of YAML")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	return writeSlackManifest(os.Stdout, os.Stderr, *path, *publicURL, *asJSON)
}

func writeSlackManifest(out, errOut io.Writer, path, publicURL string, asJSON bool) int {
	cfg := config.Default(plugins.All())
	if path == "" {
		slackOf(cfg).SocketMode = publicURL == ""
	} else {
		// The tokens and signing secret do not exist yet: Slack issues them
		// after the manifest is pasted, and they are not in it.
		var ok bool
		if cfg, ok = loadForSetup("slack-manifest", path, errOut); !ok {
			return 1
		}
	}
	if publicURL != "" {
		cfg.Server.PublicURL = publicURL
	}
	s := *slackOf(cfg)
	if !s.SocketMode && cfg.Server.PublicURL == "" {
		fmt.Fprintln(errOut, "slack-manifest: server.public_url is required unless channels.slack.socket_mode is true")
		return 1
	}
	m := slackbot.BuildManifest(s, cfg.Server.PublicURL)
	var b []byte
	var err error
	if asJSON {
		b, err = json.MarshalIndent(m, "", "  ")
		b = append(b, '\n')
	} else {
		b, err = m.YAML()
	}
	if err != nil {
		fmt.Fprintln(errOut, "slack-manifest:", err)
		return 1
	}
	_, _ = out.Write(b)
	return 0
}

// slackOf returns the configuration's channels.slack block, adding one with
// its defaults when the file has none (the manifest is for an app still to
// be created).
func slackOf(cfg *config.Config) *slackbot.Config {
	if s, ok := cfg.Channels.Plugins["slack"].(*slackbot.Config); ok {
		return s
	}
	s := slackbot.NewConfig().(*slackbot.Config)
	if cfg.Channels.Plugins == nil {
		cfg.Channels.Plugins = map[string]plugin.Config{}
	}
	cfg.Channels.Plugins["slack"] = s
	return s
}
