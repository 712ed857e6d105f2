package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/term"

	"github.com/resetbot/resetbot/app"
	"github.com/resetbot/resetbot/bot/console"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/directory/memory"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/logging"
	"github.com/resetbot/resetbot/core/secret"
	ivrtwilio "github.com/resetbot/resetbot/ivr/twilio"
	"github.com/resetbot/resetbot/plugins"
)

const demoBanner = `resetbot demo — everything runs in memory: a demo company directory, an outbox
standing in for the phones and mailboxes, generated keys. Nothing leaves this terminal.

Demo accounts (login, name, employee number, state):
%sCodes sent "by SMS", "by call" and "by email" appear in OUTBOX boxes below.
Ctrl-C or Ctrl-D ends the demo at any prompt. When a conversation ends you can start
another: enrollments are kept for the whole run.%s
`

const demoChatNote = `Type "cancel" to stop, "agent" for a person.`

// runDemo runs terminal conversations (chat, or calls with -phone) until
// the input ends or Ctrl-C.
func runDemo(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	phone := fs.Bool("phone", false, "play phone calls: keypad digits and voice prompts, through the real phone line")
	flow := fs.String("flow", "", "start this flow at once (reset, unlock, enroll; chat only)")
	lang := fs.String("lang", "en", "language: any message catalog (en, de, es, fr, pt-BR)")
	as := fs.String("as", "", "chat as this account's chat identity, as Slack or Teams would map it (e.g. amartin; chat only)")
	cfgPath := fs.String("config", "", "a demo-mode configuration file (default: built in)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *phone && (*flow != "" || *as != "") {
		fmt.Fprintln(os.Stderr, "resetbot demo: -flow and -as are for chat; on the phone the line's menu offers the flows")
		return 2
	}
	cfg, probs := config.Load(*cfgPath, os.Environ(), plugins.All())
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
	if !a.Messages.Supported(*lang) {
		fmt.Fprintf(os.Stderr, "resetbot demo: -lang %q is not supported; the languages are: %s\n",
			*lang, strings.Join(a.Messages.Languages(), ", "))
		return 2
	}
	if *phone {
		err = runPhoneDemo(ctx, a, log, *lang)
	} else {
		fmt.Printf(demoBanner, accountTable(), "\n"+demoChatNote)
		fmt.Printf("Audit trail: %s\n", auditPath)
		c := &console.Console{Engine: a.Engine, Messages: a.Messages, In: os.Stdin, Out: os.Stdout,
			User: "demo-" + randomSuffix(), Locale: *lang, QR: console.TerminalQR, Hints: demoHints(*as)}
		if *as != "" {
			fmt.Printf("Chat identity: %s's, as Slack or Teams would map it (a signal, never a factor).\n", *as)
		}
		fmt.Println()
		if fd := int(os.Stdin.Fd()); term.IsTerminal(fd) {
			c.ReadSecret = console.TerminalSecret(fd, os.Stdin, os.Stdout)
		}
		err = c.Run(ctx, *flow)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "resetbot demo:", err)
		return 1
	}
	return 0
}

// demoHints is the identity a chat platform would pass for the demo
// account login (its mapped login), or none. A login that is not an account
// maps to nothing, and the conversation starts as a plain one does.
func demoHints(login string) engine.Hints {
	if login == "" {
		return engine.Hints{}
	}
	return engine.Hints{Login: login}
}

// Demo phone line: the Twilio webhooks of ivr/twilio served in-process.
const (
	demoLineURL    = "https://demo.resetbot.invalid"
	demoAccountSID = "AC00000000000000000000000000000000"
	demoCaller     = "+15555550142"
)

// runPhoneDemo plays calls against the real phone line (ivr/twilio) built on
// the demo app, so the demo has the line's menu, keys and silence rule.
func runPhoneDemo(ctx context.Context, a *app.App, log *slog.Logger, lang string) error {
	p, err := demoPhone(a, a.Messages, log, lang, os.Stdin, os.Stdout)
	if err != nil {
		return err
	}
	fmt.Printf(demoBanner, accountTable(), demoPhoneNote)
	fmt.Printf("Audit trail: %s\n\n", a.Config.Audit.File)
	return p.Run(ctx)
}

// demoPhone builds the phone line exactly as `serve` mounts it (the
// configuration's languages, gather timeout and help-desk number; lang is
// offered first) and a terminal caller for it.
func demoPhone(a *app.App, msgs ivrtwilio.Renderer, log *slog.Logger, lang string, in io.Reader, out io.Writer) (*console.Phone, error) {
	tc, ok := a.Config.Channels.Plugins["twilio"].(*ivrtwilio.Settings)
	if !ok {
		tc = ivrtwilio.NewSettings().(*ivrtwilio.Settings)
	}
	langs := []string{lang}
	offered := tc.Languages
	if len(offered) == 0 {
		offered = []string{"en", "es"} // the demo's short menu
	}
	for _, l := range offered {
		if l != lang {
			langs = append(langs, l)
		}
	}
	helpDesk := tc.HelpDeskNumber
	if helpDesk == "" {
		helpDesk = "+15555550199"
	}
	token := randomSuffix() + randomSuffix()
	line, err := ivrtwilio.New(a.Engine, msgs, ivrtwilio.Config{PublicURL: demoLineURL,
		AccountSID: demoAccountSID, AuthToken: secret.New(token), HelpDesk: helpDesk, Languages: langs,
		GatherTimeout: tc.GatherTimeout, Log: log, Audit: a.Audit})
	if err != nil {
		return nil, err
	}
	return &console.Phone{Line: line, PublicURL: demoLineURL, AccountSID: demoAccountSID, AuthToken: token,
		From: demoCaller, To: "+15555550100", In: in, Out: out}, nil
}

const demoPhoneNote = `
Phone mode: this is the Twilio line's own code. Type keypad keys (0-9, *, #) and press Enter;
an empty line is silence (asked once more, then goodbye), * repeats, 0 asks for a person.
You are identified by employee number (e.g. 10041).`

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
