package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/app"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/messages"
	notifytwilio "github.com/resetbot/resetbot/core/notify/twilio"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/server"
	"github.com/resetbot/resetbot/core/store/memory"
	"github.com/resetbot/resetbot/plugins"
)

// TestMountChannels: the registry opens only the enabled channels, mounts
// their routes and registers what they can do; a channel that fails to open
// is named by its configuration key.
func TestMountChannels(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	mount := func(teams config.TeamsConfig) (*app.App, *server.Server, func(), error) {
		cfg := config.Default(plugins.All())
		cfg.Audit.File = ""
		cfg.Channels.Teams = teams
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

	a, srv, stop, err := mount(config.TeamsConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(a.Handoffs.Channels(), "teams") || post(srv) == http.StatusUnauthorized {
		t.Errorf("a disabled channel was opened: handoff channels %v", a.Handoffs.Channels())
	}
	stop()

	on := config.TeamsConfig{Enabled: true, AppID: "00000000-0000-0000-0000-0000000a9901",
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

// TestCodeCallsMounted: the "press 1" action of Twilio code calls is served
// whenever Twilio places code calls, with the phone channel off, and
// authenticated before anything else; without code calls it is not served.
func TestCodeCallsMounted(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	msgs, err := messages.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, calls := range []bool{true, false} {
		cfg := config.Default(plugins.All())
		cfg.Server.PublicURL = "https://resetbot.test"
		tc := &cfg.Channels.Twilio
		tc.AccountSID, tc.AuthToken, tc.FromNumber = "AC00000000000000000000000000000001", secret.New("tok"), "+15550100100"
		cfg.Notify.SMS.Provider = "twilio"
		delete(cfg.Notify.Plugins, "outbox")
		if calls {
			cfg.Factors.Enabled = append(cfg.Factors.Enabled, config.FactorVoice)
		} else {
			cfg.Factors.Enabled = slices.DeleteFunc(cfg.Factors.Enabled, func(f string) bool { return f == config.FactorVoice })
		}
		srv := server.New(app.ServerSettings(cfg.Server), log, nil)
		mountCodeCalls(&app.App{Config: cfg, Store: memory.New(), Messages: msgs}, srv, log)
		rec := httptest.NewRecorder()
		srv.PublicHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, notifytwilio.CodePath, strings.NewReader("Digits=1")))
		if served := rec.Code != http.StatusNotFound; served != calls {
			t.Errorf("code calls %v: unsigned POST answered %d", calls, rec.Code)
		}
		if calls && rec.Code == http.StatusOK {
			t.Error("an unsigned code-call action was accepted")
		}
	}
}
