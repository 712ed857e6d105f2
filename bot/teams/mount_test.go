package teams

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/app"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/handoff"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/server"
)

// TestOpen: an empty app ID is refused even when configuration validation
// was bypassed; a valid configuration serves the route and, once added to
// the app, starts Teams handoffs.
func TestOpen(t *testing.T) {
	cfg := config.Default(Registry())
	cfg.Audit.File = ""
	a, err := app.Build(context.Background(), cfg, app.Options{Floor: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	s := Config{Enabled: true, AppPassword: secret.New("x"), TenantID: testTenant}
	if _, err := Open(context.Background(), a.ChannelDeps(discard()), s); err == nil || !strings.Contains(err.Error(), "app_id") {
		t.Fatalf("empty app ID: %v", err)
	}
	s.AppID = testAppID
	ch, err := Open(context.Background(), a.ChannelDeps(discard()), s)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ch.Shutdown(context.Background()) }()
	srv := server.New(app.ServerSettings(cfg.Server), nil, nil)
	for pattern, h := range ch.Routes() {
		srv.Handle(pattern, h)
	}
	rec := httptest.NewRecorder()
	srv.PublicHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/messages", strings.NewReader("{}")))
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("unauthenticated POST: HTTP %d", rec.Code)
	}
	// Before AddChannel, Teams is no handoff channel; after, a handoff for
	// someone the bot never met fails as unreachable, not as "channel not
	// enabled".
	ho := handoff.Handoff{ID: "h1", Action: handoff.ActionReset, User: "nobody@demo.example", Channel: Channel}
	if err := a.Handoffs.Start(context.Background(), ho); err == nil || errors.Is(err, ErrUnreachable) {
		t.Errorf("teams starter registered before AddChannel: %v", err)
	}
	a.AddChannel(ch)
	if err := a.Handoffs.Start(context.Background(), ho); !errors.Is(err, ErrUnreachable) {
		t.Errorf("teams starter not registered: %v", err)
	}
	if got := a.Handoffs.Channels(); len(got) == 0 || got[0] != Channel {
		t.Errorf("handoff channels %v, want teams first", got)
	}
}

func TestConfigProblems(t *testing.T) {
	yaml := `channels:
  teams:
    enabled: true
    app_id: x
    app_password: y
    tenant_id: "https://login.example/t"
    openid_metadata_url: http://insecure.example/meta
    service_url_hosts: ["https://smba.trafficmanager.net/"]
    actions: click
`
	_, probs := config.Parse([]byte(yaml), nil, Registry())
	text := probs.Error()
	for _, want := range []string{"channels.teams.tenant_id", "channels.teams.openid_metadata_url",
		"channels.teams.service_url_hosts[0]", "channels.teams.actions"} {
		if !strings.Contains(text, want) {
			t.Errorf("no problem reported for %s:\n%s", want, text)
		}
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
