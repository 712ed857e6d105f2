package slack

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/app"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/logging/loggingtest"
	"github.com/resetbot/resetbot/core/server"
)

// TestMountUsesConfiguredAPIURL: channels.slack.api_url travels from the
// configuration through Open to the Web API client: the reply to a DM is
// posted to the configured base, not to slack.com.
func TestMountUsesConfiguredAPIURL(t *testing.T) {
	log, _ := loggingtest.Capture(t)
	f := newFakeSlack(t)
	f.setUser("U1", fakeUser{Email: "alice.martin@demo.example", Locale: "en-US"})
	cfg, probs := config.Parse(config.DemoYAML(), []string{"RESETBOT_SERVER__PUBLIC_URL=https://resetbot.test",
		"RESETBOT_CHANNELS__SLACK__ENABLED=true", "RESETBOT_CHANNELS__SLACK__BOT_TOKEN=xoxb-test",
		"RESETBOT_CHANNELS__SLACK__SIGNING_SECRET=" + testSecret,
		"RESETBOT_CHANNELS__SLACK__API_URL=" + strings.TrimSuffix(f.URL(), "/")}, Registry())
	if probs.HasErrors() {
		t.Fatal(probs.Error())
	}
	a, err := app.Build(context.Background(), cfg, app.Options{Floor: -1, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	srv := server.New(app.ServerSettings(cfg.Server), log, nil)
	ch, err := Open(context.Background(), a.ChannelDeps(log), *slackOf(cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ch.Shutdown(context.Background()) }()
	for pattern, h := range ch.Routes() {
		srv.Handle(pattern, h)
	}
	body := messageEvent("Ev1", "U1", "D1", "reset")
	r := httptest.NewRequest(http.MethodPost, PathEvents, strings.NewReader(string(body)))
	ts := time.Now().Unix()
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts, 10))
	r.Header.Set("X-Slack-Signature", Sign([]byte(testSecret), ts, body))
	w := httptest.NewRecorder()
	srv.PublicHandler().ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("event: HTTP %d", w.Code)
	}
	deadline := time.Now().Add(10 * time.Second)
	for f.callCount("chat.postMessage") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no chat.postMessage reached the configured api_url")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
