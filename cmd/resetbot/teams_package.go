package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	teamsbot "github.com/resetbot/resetbot/bot/teams"
)

// runTeamsPackage writes the Teams app package (manifest.json and two icons,
// zipped) for the configured bot, ready to upload in Teams or the Teams admin
// center. It needs channels.teams.app_id and server.public_url; other
// configuration problems (such as secrets not yet in the environment) are
// printed as warnings.
func runTeamsPackage(_ context.Context, args []string) int {
	fs := flag.NewFlagSet("teams-package", flag.ContinueOnError)
	path := fs.String("config", "", "configuration file (YAML)")
	out := fs.String("out", "resetbot-teams.zip", "zip file to write")
	var p teamsbot.PackageInfo
	fs.StringVar(&p.Name, "name", "resetbot", "app short name (at most 30 characters)")
	fs.StringVar(&p.FullName, "full-name", "", "app full name")
	fs.StringVar(&p.Developer, "developer", "IT help desk", "publisher name")
	fs.StringVar(&p.WebsiteURL, "website", "", "publisher website (https; default server.public_url)")
	fs.StringVar(&p.PrivacyURL, "privacy", "", "privacy statement URL (https; default server.public_url)")
	fs.StringVar(&p.TermsURL, "terms", "", "terms of use URL (https; default server.public_url)")
	fs.StringVar(&p.Version, "version", "1.0.0", "app package version (raise it for every upload)")
	fs.StringVar(&p.AccentColor, "accent", "", "accent color #RRGGBB")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *path == "" {
		fmt.Fprintln(os.Stderr, "teams-package: -config FILE is required")
		return 2
	}
	cfg, ok := loadForSetup("teams-package", *path, os.Stderr)
	if !ok {
		return 1
	}
	if t, ok := cfg.Channels.Plugins["teams"].(*teamsbot.Config); ok {
		p.AppID = t.AppID
	}
	p.PublicURL = cfg.Server.PublicURL
	zip, err := teamsbot.AppPackage(p)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := os.WriteFile(*out, zip, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "teams-package:", err)
		return 1
	}
	fmt.Printf("wrote %s (%d bytes): upload it in Teams → Apps → Manage your apps → Upload an app\n", *out, len(zip))
	return 0
}
