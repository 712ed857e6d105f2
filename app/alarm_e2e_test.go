package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/app"
	"github.com/resetbot/resetbot/core/alarm"
	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/handoff/escalate"
	"github.com/resetbot/resetbot/core/handoff/webhook"
	"github.com/resetbot/resetbot/core/logging/loggingtest"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/flows"
	"github.com/resetbot/resetbot/plugins"
)

// TestAlarmOneIdentitySeveralAccounts: one chat identity going through five
// accounts raises exactly one signed alert at the security webhook, and one
// abuse.alarm audit record carrying the users' references.
func TestAlarmOneIdentitySeveralAccounts(t *testing.T) {
	const hookSecret = "alarm-webhook-secret-0123456789"
	var mu sync.Mutex
	var bodies [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if !webhook.Verify(secret.New(hookSecret), r.Header.Get(webhook.SignatureHeader), b, time.Now(), time.Minute) {
			t.Errorf("alert webhook not signed")
		}
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
	}))
	defer srv.Close()
	yaml := `mode: demo
store: {type: memory}
directories: [{name: demo, type: memory}]
notify: {outbox: true, sms: {provider: outbox}}
alarms: {window: 1h, accounts_per_identity: 3, webhook_url: "` + srv.URL + `/alarms", webhook_secret: "` + hookSecret + `"}
`
	cfg, probs := config.Parse([]byte(yaml), nil, plugins.All())
	if probs.HasErrors() {
		t.Fatal(probs.Error())
	}
	log, _ := loggingtest.Capture(t)
	rec := &audit.Recorder{}
	a, err := app.Build(context.Background(), cfg, app.Options{Floor: -1, Log: log, Audit: rec, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	for _, login := range []string{"amartin", "bnguyen", "crossi", "fhaddad", "dokafor"} {
		for _, in := range []engine.Input{start(flows.FlowReset), text(login), choice("cancel")} {
			a.Engine.Handle(context.Background(), engine.Turn{Channel: "slack", ChannelUser: "U666", Input: in})
		}
	}
	_ = a.Close() // flushes the webhook queue
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 1 {
		t.Fatalf("%d alerts delivered, want 1", len(bodies))
	}
	var got struct {
		Type string `json:"type"`
		alarm.Alert
	}
	if err := json.Unmarshal(bodies[0], &got); err != nil {
		t.Fatal(err)
	}
	if got.Type != "resetbot.alarm" || got.Rule != alarm.RuleIdentityManyAccounts || got.Subject != "slack:U666" || got.Count != 3 || len(got.Refs) == 0 {
		t.Errorf("alert %s", bodies[0])
	}
	if n := len(rec.Find(alarm.NameAlarm)); n != 1 {
		t.Errorf("%d abuse.alarm audit records, want 1", n)
	}
}

// TestAlarmToChatChannel: alarms.destinations posts one message per
// incident into the chat channel, through the adapter's registered poster.
func TestAlarmToChatChannel(t *testing.T) {
	cfg := alarmDemoConfig(t)
	// Set after validation: the demo enables no chat adapter (config tests
	// cover the checks); the poster below stands in for the Slack adapter.
	cfg.Alarms.Destinations = []config.ChatDestination{{Channel: "slack", Target: "C0SECURITY1"}}
	rec := &audit.Recorder{}
	a, err := app.Build(context.Background(), cfg, app.Options{Floor: -1, Audit: rec})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	posts := map[string][]string{}
	a.Posters.Set("slack", func(target string) escalate.Poster {
		return escalate.PosterFunc(func(_ context.Context, text string) error {
			mu.Lock()
			defer mu.Unlock()
			posts[target] = append(posts[target], text)
			return nil
		})
	})
	for _, login := range []string{"amartin", "bnguyen", "crossi", "fhaddad", "dokafor"} {
		for _, in := range []engine.Input{start(flows.FlowReset), text(login), choice("cancel")} {
			a.Engine.Handle(context.Background(), engine.Turn{Channel: "slack", ChannelUser: "U777", Input: in})
		}
	}
	_ = a.Close() // drains the chat queue
	mu.Lock()
	defer mu.Unlock()
	if len(posts) != 1 || len(posts["C0SECURITY1"]) != 1 {
		t.Fatalf("posts %q, want one message in C0SECURITY1 (alarms %v)", posts, rec.Find(alarm.NameAlarm))
	}
	msg := posts["C0SECURITY1"][0]
	if !strings.Contains(msg, alarm.RuleIdentityManyAccounts) || !strings.Contains(msg, "slack:U777") || !strings.Contains(msg, "Reference IDs") {
		t.Errorf("message:\n%s", msg)
	}
	t.Logf("\n%s", msg)
}

// TestAlarmOneCallerSeveralCalls: a phone session is bound to its call, so
// one number calling four times about four accounts must still be one
// identity to the alarms (the start event names the caller ID).
func TestAlarmOneCallerSeveralCalls(t *testing.T) {
	cfg := alarmDemoConfig(t)
	log, _ := loggingtest.Capture(t)
	rec := &audit.Recorder{}
	a, err := app.Build(context.Background(), cfg, app.Options{Floor: -1, Log: log, Audit: rec})
	if err != nil {
		t.Fatal(err)
	}
	for i, emp := range []string{"10041", "10057", "10063", "10088"} {
		call := engine.Turn{Channel: "voice", ChannelUser: fmt.Sprintf("CA%032d", i), Hints: engine.Hints{Phone: "+15550100"}}
		for _, in := range []engine.Input{start(flows.FlowReset), digits(emp)} {
			call.Input = in
			a.Engine.Handle(context.Background(), call)
		}
	}
	_ = a.Close()
	alarms := rec.Find(alarm.NameAlarm)
	if len(alarms) != 1 {
		t.Fatalf("%d abuse.alarm records, want 1 for one number calling about four accounts", len(alarms))
	}
	if !strings.Contains(fmt.Sprint(alarms[0]), "+15550100") && !strings.Contains(fmt.Sprint(alarms[0]), "0100") {
		t.Errorf("alarm %+v does not name the calling number", alarms[0])
	}
}

// alarmDemoConfig is the demo service with alarms at 3 accounts per
// identity within an hour.
func alarmDemoConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg, probs := config.Parse([]byte(`mode: demo
store: {type: memory}
directories: [{name: demo, type: memory}]
notify: {outbox: true, sms: {provider: outbox}}
alarms: {window: 1h, accounts_per_identity: 3}
`), nil, plugins.All())
	if probs.HasErrors() {
		t.Fatal(probs.Error())
	}
	return cfg
}
