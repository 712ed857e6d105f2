package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/app"
	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/logging/loggingtest"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/plugins"
)

const liftKey = "rbk_test_lift_key_0123456789abcdefghijk"

// TestPauseWarnAndLift plays the whole story through the real app:
// strangers' wrong codes pause an account's authenticator factor, the owner
// is warned by SMS, the owner is told the truth, and a help-desk key of the
// bans:lift scope (not a handoff key) lifts the pause, audited.
func TestPauseWarnAndLift(t *testing.T) {
	hash := func(k string) string { s := sha256.Sum256([]byte(k)); return "sha256:" + hex.EncodeToString(s[:]) }
	yaml := `mode: demo
store: {type: memory}
directories: [{name: demo, type: memory}]
notify: {outbox: true, sms: {provider: outbox}}
handoff:
  api_keys:
    - {id: itsm, hash: "` + hash(itsmKey) + `", scopes: [handoffs:create, handoffs:read]}
    - {id: helpdesk, hash: "` + hash(liftKey) + `", scopes: [bans:lift]}
`
	cfg, probs := config.Parse([]byte(yaml), nil, plugins.All())
	if probs.HasErrors() {
		t.Fatal(probs.Error())
	}
	log, logs := loggingtest.Capture(t)
	rec := &audit.Recorder{}
	a, err := app.Build(context.Background(), cfg, app.Options{Floor: -1, Log: log, Audit: rec})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	say := func(user string, in engine.Input) engine.Reply {
		return a.Engine.Handle(context.Background(), engine.Turn{Channel: "slack", ChannelUser: user, Input: in})
	}
	guess := func(user string, n int) engine.Reply {
		say(user, engine.Input{Kind: engine.InputStart, Flow: "reset"})
		say(user, engine.Input{Kind: engine.InputText, Value: secret.New("amartin")})
		say(user, engine.Input{Kind: engine.InputChoice, Choice: "totp"})
		var r engine.Reply
		for range n {
			if r = say(user, engine.Input{Kind: engine.InputText, Value: secret.New("000000")}); r.Ended {
				break
			}
		}
		return r
	}
	guess("U1", 5)
	guess("U2", 5)
	if r := guess("U3", 1); r.State != "locked_out" || r.Outputs[0].MessageID != "regulation.paused" {
		t.Fatalf("during the pause: %s %v", r.State, r.Outputs)
	}
	warned := false
	for _, d := range a.Outbox.Messages() {
		warned = warned || (d.Message.Summary == "notice.attack" && d.Message.To == "+15555550101")
	}
	if !warned {
		t.Fatal("the owner was not warned by SMS")
	}
	lift := func(key string) int {
		req := httptest.NewRequest("POST", "/api/v1/lifts", strings.NewReader(`{"user":"amartin"}`))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		a.Handoffs.API.ServeHTTP(w, req)
		return w.Code
	}
	if code := lift(itsmKey); code != http.StatusForbidden {
		t.Fatalf("a handoff key lifted: %d", code)
	}
	if code := lift(liftKey); code != http.StatusOK {
		t.Fatalf("lift: %d", code)
	}
	if r := guess("U4", 1); r.Ended || r.Outputs[0].MessageID != "verify.wrong" {
		t.Fatalf("after the lift: %s %v", r.State, r.Outputs)
	}
	evs := rec.Find(app.NameLifted)
	if len(evs) != 1 || evs[0].Actor != "apikey:helpdesk" || evs[0].Outcome != audit.OutcomeSuccess {
		t.Fatalf("lift audit: %+v", evs)
	}
	logs.AssertNoSecrets(t, itsmKey, liftKey)
}
