package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/app"
	"github.com/resetbot/resetbot/bot/mattermost"
	teamsbot "github.com/resetbot/resetbot/bot/teams"
	"github.com/resetbot/resetbot/core/config"
	notifytwilio "github.com/resetbot/resetbot/core/notify/twilio"
	"github.com/resetbot/resetbot/core/plugin"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/server"
	ivrtwilio "github.com/resetbot/resetbot/ivr/twilio"
	"github.com/resetbot/resetbot/plugins"
)

// TestMountChannels: the registry opens only the enabled channels, mounts
// their routes and registers what they can do; a channel that fails to open
// is named by its configuration key.
func TestMountChannels(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	mount := func(teams teamsbot.Config) (*app.App, *server.Server, func(), error) {
		cfg := config.Default(plugins.All())
		cfg.Audit.File = ""
		cfg.Channels.Plugins = map[string]plugin.Config{"teams": &teams}
		a, err := app.Build(context.Background(), cfg, app.Options{Floor: -1, Log: log})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = a.Close() })
		srv := server.New(app.ServerSettings(cfg.Server), log, nil)
		stop, err := mountChannels(context.Background(), a, srv, log)
		return a, srv, stop, err
	}
	post := func(srv *server.Server) int {
		rec := httptest.NewRecorder()
		srv.PublicHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/messages", strings.NewReader("{}")))
		return rec.Code
	}

	a, srv, stop, err := mount(teamsbot.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(a.Handoffs.Channels(), "teams") || post(srv) == http.StatusUnauthorized {
		t.Errorf("a disabled channel was opened: handoff channels %v", a.Handoffs.Channels())
	}
	stop()

	on := teamsbot.Config{Enabled: true, AppID: "00000000-0000-0000-0000-0000000a9901",
		AppPassword: secret.New("x"), TenantID: "11111111-1111-1111-1111-111111111111"}
	a, srv, stop, err = mount(on)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(a.Handoffs.Channels(), "teams") || post(srv) != http.StatusUnauthorized {
		t.Errorf("teams not opened: handoff channels %v, unauthenticated POST %d", a.Handoffs.Channels(), post(srv))
	}
	stop()

	on.AppID = ""
	if _, _, _, err := mount(on); err == nil || !strings.HasPrefix(err.Error(), "channels.teams: ") {
		t.Errorf("a channel that cannot open: %v", err)
	}
}

// TestChannelsOpenInKeyOrder: the enabled channel plug-in blocks open in
// alphabetical order of their key (the phone, channels.twilio, among them);
// disabled blocks are skipped.
func TestChannelsOpenInKeyOrder(t *testing.T) {
	cfg := config.Default(plugins.All())
	cfg.Channels.Plugins = map[string]plugin.Config{
		"teams":      &teamsbot.Config{Enabled: true},
		"mattermost": &mattermost.Config{Enabled: true},
		"slack":      plugins.All()[plugin.Channel]["slack"](), // not enabled
		"twilio":     &ivrtwilio.Settings{Enabled: true},
	}
	pending, err := channelsToOpen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, p := range pending {
		keys = append(keys, p.key)
	}
	if got := strings.Join(keys, ","); got != "mattermost,teams,twilio" {
		t.Errorf("opening order %s, want mattermost,teams,twilio", got)
	}
}

// TestMattermostFromConfig: a file with a channels.mattermost block, and
// nothing else about Mattermost anywhere but its package and its registry
// line, is accepted by check-config and opened by serve: its callback
// routes answer on the public listener (refusing an unsigned callback), and
// serve stops cleanly with the channel's WebSocket still trying to connect.
func TestMattermostFromConfig(t *testing.T) {
	pub, adm := freeAddr(t), freeAddr(t)
	t.Setenv("RESETBOT_SERVER__LISTEN", pub)
	t.Setenv("RESETBOT_SERVER__ADMIN_LISTEN", adm)
	t.Setenv("RESETBOT_CHANNELS__MATTERMOST__CALLBACK_KEY", strings.Repeat("k", 32))
	dead := freeAddr(t) // nothing listens: the WebSocket keeps retrying
	file := writeConfig(t, string(config.DemoYAML())+`
channels:
  mattermost:
    enabled: true
    url: http://`+dead+`
    bot_token: mm-bot-token
    callback_url: http://`+pub+`
`)
	if code := runCheckConfigQuiet(t, file); code != 0 {
		t.Fatalf("check-config -offline refused a channels.mattermost block: exit %d", code)
	}
	cfg, probs := config.Load(file, []string{"RESETBOT_CHANNELS__MATTERMOST__CALLBACK_KEY=" + strings.Repeat("k", 32)}, plugins.All())
	if probs.HasErrors() {
		t.Fatal(probs.Error())
	}
	if _, ok := cfg.Channels.Plugins["mattermost"].(*mattermost.Config); !ok {
		t.Fatalf("channels.mattermost decoded into %T", cfg.Channels.Plugins["mattermost"])
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- runServe(ctx, []string{"-config", file}) }()
	defer func() {
		cancel()
		select {
		case c := <-done:
			if c != 0 {
				t.Errorf("serve exited with %d", c)
			}
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop")
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Post("http://"+pub+mattermost.PathAction, "application/json", strings.NewReader("{}"))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusNotFound {
				t.Fatal("serve is up but the Mattermost callback route is not mounted")
			}
			if resp.StatusCode == http.StatusOK {
				t.Fatal("an unsigned Mattermost callback was accepted")
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("serve did not come up")
		}
		select {
		case c := <-done:
			t.Fatalf("serve exited with %d", c)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestCodeCallsMounted: the "press 1" action of Twilio code calls is served
// whenever Twilio places code calls, with the phone channel off, and
// authenticated before anything else; without code calls it is not served.
// The route comes from the account's senders (app.NotifierRoutes), not from
// this package naming Twilio.
func TestCodeCallsMounted(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, calls := range []bool{true, false} {
		cfg := config.Default(plugins.All())
		cfg.Audit.File = ""
		cfg.Server.PublicURL = "https://resetbot.test"
		cfg.Channels.Plugins = map[string]plugin.Config{"twilio": &ivrtwilio.Settings{Account: notifytwilio.Account{
			AccountSID: "AC00000000000000000000000000000001", AuthToken: secret.New("tok"), FromNumber: "+15550100100"}}}
		cfg.Notify.SMS.Provider = "twilio"
		delete(cfg.Notify.Plugins, "outbox")
		cfg.Factors.Enabled = slices.DeleteFunc(cfg.Factors.Enabled, func(f string) bool { return f == config.FactorVoice })
		if calls {
			cfg.Factors.Enabled = append(cfg.Factors.Enabled, config.FactorVoice)
		}
		a, err := app.Build(context.Background(), cfg, app.Options{Floor: -1, Log: log})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = a.Close() })
		srv := server.New(app.ServerSettings(cfg.Server), log, nil)
		stop, err := mountChannels(context.Background(), a, srv, log)
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		srv.PublicHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, notifytwilio.CodePath, strings.NewReader("Digits=1")))
		if served := rec.Code != http.StatusNotFound; served != calls {
			t.Errorf("code calls %v: unsigned POST answered %d", calls, rec.Code)
		}
		if calls && rec.Code == http.StatusOK {
			t.Error("an unsigned code-call action was accepted")
		}
		rec = httptest.NewRecorder()
		srv.PublicHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, ivrtwilio.PathIncoming, strings.NewReader("")))
		if rec.Code != http.StatusNotFound {
			t.Errorf("the phone channel is off but its webhook answered %d", rec.Code)
		}
		stop()
	}
}
