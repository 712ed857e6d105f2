package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/term"

	"github.com/resetbot/resetbot/bot/console"
	"github.com/resetbot/resetbot/core/app"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/directory/memory"
	"github.com/resetbot/resetbot/core/logging"
)

const demoBanner = `resetbot demo — everything runs in memory: a demo company directory, an outbox
standing in for the phones and mailboxes, generated keys. Nothing leaves this terminal.

Demo accounts (login, name, employee number, state):
%sCodes sent "by SMS", "by call" and "by email" appear in OUTBOX boxes below.
Type "cancel" to stop, "agent" for a person.%s
`

// runDemo runs one terminal conversation (chat, or a call with -phone).
func runDemo(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	phone := fs.Bool("phone", false, "play a phone call: keypad digits and voice prompts")
	flow := fs.String("flow", "", "start this flow at once (reset, unlock, enroll)")
	lang := fs.String("lang", "en", "language (en, es)")
	cfgPath := fs.String("config", "", "a demo-mode configuration file (default: built in)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, probs := config.Load(*cfgPath, os.Environ())
	if probs.HasErrors() {
		fmt.Fprintln(os.Stderr, probs.Error())
		return 1
	}
	if cfg.Mode != config.ModeDemo {
		fmt.Fprintln(os.Stderr, "resetbot demo: the configuration is not in demo mode; use resetbot serve")
		return 1
	}
	auditPath := filepath.Join(os.TempDir(), "resetbot-demo-audit.jsonl")
	cfg.Audit.File = auditPath
	log := logging.New(os.Stderr, slog.LevelWarn, logging.FormatText)
	a, err := app.Build(ctx, cfg, app.Options{Log: log, Outbox: os.Stdout})
	if err != nil {
		fmt.Fprintln(os.Stderr, "resetbot demo:", err)
		return 1
	}
	defer a.Close()
	extra := ""
	if *phone {
		extra = "\nPhone mode: type keypad keys (0-9, *, #) and press Enter; an empty line is silence,\n" +
			"0 asks for a person, * repeats. You are identified by employee number."
	}
	fmt.Printf(demoBanner, accountTable(), extra)
	fmt.Printf("Audit trail: %s\n\n", auditPath)
	c := &console.Console{Engine: a.Engine, Messages: a.Messages, In: os.Stdin, Out: os.Stdout,
		Phone: *phone, User: "demo-" + randomSuffix(), Locale: *lang, QR: console.TerminalQR}
	if fd := int(os.Stdin.Fd()); term.IsTerminal(fd) {
		c.ReadSecret = func(prompt string) (string, error) {
			fmt.Print(prompt)
			b, err := term.ReadPassword(fd)
			fmt.Println()
			return string(b), err
		}
	}
	if err := c.Run(ctx, *flow); err != nil && ctx.Err() == nil {
		fmt.Fprintln(os.Stderr, "resetbot demo:", err)
		return 1
	}
	return 0
}

// accountTable lists the demo directory's accounts for the banner.
func accountTable() string {
	var b strings.Builder
	for _, a := range memory.DemoAccounts() {
		state := "normal"
		switch {
		case a.Locked:
			state = "LOCKED: try unlock"
		case a.Disabled:
			state = "disabled"
		case a.Protected:
			state = "protected administrator"
		}
		fmt.Fprintf(&b, "  %-8s %-14s %-6s %s\n", a.User.Login, a.User.DisplayName, a.User.EmployeeNumber, state)
	}
	return b.String()
}

// randomSuffix names this terminal's conversation.
func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
