package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/app"
	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/logging/loggingtest"
	"github.com/resetbot/resetbot/plugins"
)

// TestAPIKeyScopeBudgetsAndNoOracle: an API key hands over only accounts in
// its OUs; an out-of-scope, an unknown and an over-budget handoff all answer
// the same "failed / not_possible", with no SMS sent; SMS handoff codes
// spend the same hourly per-destination budget as every code.
func TestAPIKeyScopeBudgetsAndNoOracle(t *testing.T) {
	const (
		inKey  = "rbk_scope_in_key_0123456789abcdefghij"
		outKey = "rbk_scope_out_key_0123456789abcdefghij"
	)
	hash := func(k string) string { s := sha256.Sum256([]byte(k)); return "sha256:" + hex.EncodeToString(s[:]) }
	yaml := `mode: demo
store: {type: memory}
directories: [{name: demo, type: memory}]
notify: {outbox: true, sms: {provider: outbox}}
channels: {twilio: {from_number: "+15555550000"}}
handoff:
  api_keys:
    - {id: people, hash: "` + hash(inKey) + `", scopes: [handoffs:create, handoffs:read], ous: ["OU=People,DC=demo,DC=example"]}
    - {id: sales, hash: "` + hash(outKey) + `", scopes: [handoffs:create, handoffs:read], ous: ["ou=sales,dc=demo,dc=example"]}
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
	call := func(key, method, path, body string) (int, string) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		a.Handoffs.API.ServeHTTP(w, req)
		return w.Code, w.Body.String()
	}
	shape := func(code int, body string) string {
		var m map[string]any
		_ = json.Unmarshal([]byte(body), &m)
		st, _ := m["status"].(string)
		why, _ := m["reason"].(string)
		return http.StatusText(code) + "/" + st + "/" + why
	}
	sms := func() int { return len(a.Outbox.Messages()) }

	// Out of scope, unknown, and (below) over budget: one answer.
	want := "Created/failed/not_possible"
	for _, user := range []string{"amartin", "alice.martin@demo.example", "nobody"} {
		if got := shape(call(outKey, "POST", "/api/v1/handoffs", `{"user":"`+user+`","action":"reset","channel":"sms"}`)); got != want {
			t.Fatalf("sales key, %s: %s, want %s", user, got, want)
		}
	}
	if got := shape(call(inKey, "POST", "/api/v1/handoffs", `{"user":"nobody","action":"reset","channel":"sms"}`)); got != want {
		t.Fatalf("unknown user: %s", got)
	}
	if sms() != 0 {
		t.Fatalf("%d SMS sent for refused handoffs", sms())
	}

	// In scope: SMS handoffs count in the per-destination budget (3 an hour).
	for i := range 3 {
		if got := shape(call(inKey, "POST", "/api/v1/handoffs", `{"user":"amartin","action":"reset","channel":"sms"}`)); got != "Created/started/" {
			t.Fatalf("in-scope handoff %d: %s", i, got)
		}
	}
	code, body := call(inKey, "POST", "/api/v1/handoffs", `{"user":"amartin","action":"reset","channel":"sms"}`)
	if got := shape(code, body); got != want || sms() != 3 {
		t.Fatalf("4th SMS handoff in the hour: %s, %d SMS sent (want %s, 3)", got, sms(), want)
	}
	var created map[string]any
	_ = json.Unmarshal([]byte(body), &created)
	_, view := call(inKey, "GET", "/api/v1/handoffs/"+created["id"].(string), "")
	if strings.Contains(view, "unreachable") || strings.Contains(view, "budget") || !strings.Contains(view, `"reason":"not_possible"`) {
		t.Fatalf("the status tells more than not_possible: %s", view)
	}
	logs.AssertNoSecrets(t, inKey, outKey)
}
