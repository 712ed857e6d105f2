// Command resetbot is the self-service password reset bot. `resetbot help`
// lists the commands; `resetbot CMD -h` shows the flags of one.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// command is one subcommand with its line in `resetbot help`.
type command struct {
	name, about string
	run         func(ctx context.Context, args []string) int
}

// commands in the order a newcomer meets them.
var commands = []command{
	{"demo", "terminal demo: chat or phone, in memory, no servers (make run)", runDemo},
	{"check-config", "report every configuration problem at once, then contact the servers", runCheckConfig},
	{"slack-manifest", "print the Slack app manifest (no secrets needed yet)", runSlackManifest},
	{"teams-package", "write the Teams app package to upload (no secrets needed yet)", runTeamsPackage},
	{"serve", "run the service (webhooks, /healthz, /readyz; /metrics on the admin listener)", runServe},
	{"report", "the ROI report from the store or the audit trail: adoption, completions, time to reset, deflection, satisfaction, saving", runReport},
	{"version", "print the version", func(context.Context, []string) int { fmt.Println("resetbot", version); return 0 }},
	{"help", "this list", nil},
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "resetbot — self-service password reset by chat and phone\n\nusage: resetbot COMMAND [flags]   (resetbot COMMAND -h for its flags)\n\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-15s %s\n", c.name, c.about)
	}
}

func find(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) == 0 {
		usage(os.Stderr)
		return 2
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		usage(os.Stdout)
		return 0
	}
	c := find(args[0])
	if c == nil {
		fmt.Fprintf(os.Stderr, "resetbot: unknown command %q\n\n", args[0])
		usage(os.Stderr)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return c.run(ctx, args[1:])
}
