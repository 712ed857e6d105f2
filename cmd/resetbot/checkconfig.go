package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/resetbot/resetbot/app"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/plugins"
)

// runCheckConfig prints every configuration problem at once, then, when the
// file is valid, runs the startup checks (directory bind + search, store
// ping, SMTP) unless -offline is given.
func runCheckConfig(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("check-config", flag.ContinueOnError)
	path := fs.String("config", "", "configuration file (YAML)")
	offline := fs.Bool("offline", false, "only validate the file; do not contact any server")
	summary := fs.Bool("summary", false, "print the effective configuration (secrets redacted)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *path == "" {
		fmt.Fprintln(os.Stderr, "check-config: -config FILE is required")
		return 2
	}
	cfg, probs := config.Load(*path, os.Environ(), plugins.All())
	if len(probs) > 0 {
		fmt.Println(probs.Error())
	}
	if probs.HasErrors() {
		fmt.Printf("%d problem(s); the configuration is not valid.\n", len(probs.Errors()))
		return 1
	}
	if *summary {
		_ = cfg.Summary(os.Stdout)
	}
	if *offline {
		fmt.Println("configuration is valid (servers not contacted)")
		return 0
	}
	return startupCheck(ctx, cfg)
}

// startupCheck builds the service and runs its startup checks.
func startupCheck(ctx context.Context, cfg *config.Config) int {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	a, err := app.Build(ctx, cfg, app.Options{})
	if err != nil {
		fmt.Println("startup failed:", err)
		return 1
	}
	defer a.Close()
	if err := a.Check(ctx); err != nil {
		fmt.Println("startup check failed:", err)
		return 1
	}
	fmt.Println("configuration is valid and every server answered")
	return 0
}
