// Command resetbot is the self-service password reset bot.
//
//	resetbot demo [-phone] [-flow reset|unlock|enroll] [-lang es]   terminal demo, no servers
//	resetbot serve -config FILE                                     the service
//	resetbot check-config -config FILE                              print every problem at once
//	resetbot slack-manifest -config FILE                            the Slack app manifest
//	resetbot teams-package -config FILE                             the Teams app package (zip)
//	resetbot version
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

var commands = map[string]func(ctx context.Context, args []string) int{
	"demo":           runDemo,
	"serve":          runServe,
	"check-config":   runCheckConfig,
	"slack-manifest": runSlackManifest,
	"teams-package":  runTeamsPackage,
	"report":         runReport,
	"version":        func(context.Context, []string) int { fmt.Println("resetbot", version); return 0 },
}

func main() {
	if len(os.Args) < 2 || commands[os.Args[1]] == nil {
		fmt.Fprintln(os.Stderr, "usage: resetbot demo|serve|check-config|slack-manifest|teams-package|version [flags]  (resetbot CMD -h for flags)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := commands[os.Args[1]](ctx, os.Args[2:])
	stop()
	os.Exit(code)
}
