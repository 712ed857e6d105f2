package app_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/app"
	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/handoff/webhook"
	"github.com/resetbot/resetbot/core/logging/loggingtest"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/plugins"
)

const (
	itsmKey       = "rbk_test_itsm_key_0123456789abcdefghij"
	webhookSecret = "whsec-0123456789abcdefghijklmnopqrstuv"
)

// TestAPIHandoffToPhoneCall drives the ITSM path end to end: an API handoff
// texts the user a code, the user phones in and types it instead of an
// employee number, verifies, gets a passphrase by SMS, and the ITSM tool sees
// the status and receives a signed completion webhook.
func TestAPIHandoffToPhoneCall(t *testing.T) {
	var (
		mu   sync.Mutex
		hook []byte
		sig  string
	)
	recv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		hook, sig = b, r.Header.Get(webhook.SignatureHeader)
		mu.Unlock()
	}))
	defer recv.Close()
	sum := sha256.Sum256([]byte(itsmKey))
	yaml := `mode: demo
store: {type: memory}
directories: [{name: demo, type: memory}]
notify: {outbox: true, sms: {provider: outbox}}
channels: {twilio: {from_number: "+15555550000"}}
handoff:
  api_keys:
    - id: itsm
      hash: "sha256:` + hex.EncodeToString(sum[:]) + `"
      scopes: [handoffs:create, handoffs:read]
      webhook_url: ` + recv.URL + `/done
      webhook_secret: ` + webhookSecret + `
`
	cfg, probs := config.Parse([]byte(yaml), nil, plugins.All())
	if probs.HasErrors() {
		t.Fatal(probs.Error())
	}
	log, logs := loggingtest.Capture(t)
	rec := &audit.Recorder{}
	a, err := app.Build(context.Background(), cfg, app.Options{Floor: -1, Log: log, Audit: rec, HTTPClient: recv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	call := func(method, path, body string) (int, map[string]any) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+itsmKey)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		a.Handoffs.API.ServeHTTP(w, req)
		var out map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &out)
		return w.Code, out
	}
	code, created := call("POST", "/api/v1/handoffs", `{"user":"amartin","action":"reset","channel":"sms"}`)
	if code != http.StatusCreated || created["status"] != "started" {
		t.Fatalf("create: %d %v", code, created)
	}
	id := created["id"].(string)
	last, _ := a.Outbox.Last()
	hcode := regexp.MustCompile(`code (\d{10})`).FindStringSubmatch(last.Message.Body.Reveal())
	if last.Message.Summary != "handoff.sms" || last.Message.To != "+15555550101" || hcode == nil {
		t.Fatalf("handoff SMS: %s to %s", last.Message.Summary, last.Message.To)
	}
	secrets := []string{itsmKey, webhookSecret, hcode[1]}
	turn := func(digits string) engine.Reply {
		return a.Engine.Handle(context.Background(), engine.Turn{Channel: "voice", ChannelUser: "CA1",
			Input: engine.Input{Kind: engine.InputDigits, Value: secret.New(digits)}})
	}
	lastCode := func() string {
		d, _ := a.Outbox.Last()
		m := regexp.MustCompile(`\b(\d{6})\b`).FindStringSubmatch(strings.ReplaceAll(d.Message.Body.Reveal(), ", ", ""))
		if m == nil {
			t.Fatalf("no code in %s", d.Message.Summary)
		}
		secrets = append(secrets, m[1])
		return m[1]
	}
	turn("1") // reset
	if r := turn(hcode[1]); r.State != "verify_factor" {
		t.Fatalf("handoff code not accepted: %s", r.State)
	}
	turn("2") // SMS, beside the authenticator's prompt
	turn(lastCode())
	if r := turn(lastCode()); r.State != "done" {
		t.Fatalf("call ended in %s", r.State)
	}
	if code, view := call("GET", "/api/v1/handoffs/"+id, ""); code != 200 || view["status"] != "done" {
		t.Fatalf("status: %d %v", code, view)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		got, s := hook, sig
		mu.Unlock()
		if got != nil {
			if !webhook.Verify(secret.New(webhookSecret), s, got, time.Now(), time.Minute) || !bytes.Contains(got, []byte(`"done"`)) {
				t.Fatalf("webhook %s (signature %q)", got, s)
			}
			for _, sct := range secrets {
				if bytes.Contains(got, []byte(sct)) {
					t.Fatal("a secret reached the webhook")
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no completion webhook")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The code is single use: a second call cannot redeem it.
	a.Engine.Handle(context.Background(), engine.Turn{Channel: "voice", ChannelUser: "CA2", Input: engine.Input{Kind: engine.InputDigits, Value: secret.New("1")}})
	r := a.Engine.Handle(context.Background(), engine.Turn{Channel: "voice", ChannelUser: "CA2", Input: engine.Input{Kind: engine.InputDigits, Value: secret.New(hcode[1])}})
	redeemed := 0
	for _, e := range rec.Find("handoff.code_redeemed") {
		if e.Outcome == audit.OutcomeSuccess {
			redeemed++
		}
	}
	if redeemed != 1 {
		t.Fatalf("reused code: %s, redeemed %d times", r.State, redeemed)
	}
	logs.AssertNoSecrets(t, secrets...)
	for _, e := range rec.Events() {
		b, _ := json.Marshal(e)
		for _, sct := range secrets {
			if bytes.Contains(b, []byte(sct)) {
				t.Fatalf("secret in audit event %s", e.Name)
			}
		}
	}
}
