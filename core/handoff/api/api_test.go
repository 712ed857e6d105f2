package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/audit/audittest"
	"github.com/resetbot/resetbot/core/handoff"
	"github.com/resetbot/resetbot/core/handoff/api"
	"github.com/resetbot/resetbot/core/handoff/apikey"
	"github.com/resetbot/resetbot/core/handoff/webhook"
	"github.com/resetbot/resetbot/core/logging/loggingtest"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store/memory"
)

const hookSecret = "whsec-test-0123456789"

// starter is the fake Starter: it records handoffs and, for sms, issues a
// code as the real one does (so tests can check the code never leaks).
type starter struct {
	mu     sync.Mutex
	during func() // runs inside Start (simulates a concurrent request)
	s      *handoff.Store
	seen   []handoff.Handoff
	codes  []string
	fail   bool
}

func (f *starter) Start(ctx context.Context, h handoff.Handoff) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen = append(f.seen, h)
	if f.during != nil {
		f.mu.Unlock()
		f.during()
		f.mu.Lock()
	}
	if f.fail {
		return io.ErrUnexpectedEOF
	}
	if h.Channel == handoff.ChannelSMS {
		c, _, err := f.s.IssueCode(ctx, h.ID)
		if err != nil {
			return err
		}
		f.codes = append(f.codes, c.Reveal())
	}
	return nil
}

func (f *starter) calls() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.seen) }

// receiver is the ITSM's webhook endpoint; it verifies signatures.
type receiver struct {
	mu     sync.Mutex
	bodies []string
	bad    int
}

func (rv *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if !webhook.Verify(secret.New(hookSecret), r.Header.Get(webhook.SignatureHeader), b, time.Now(), webhook.DefaultTolerance) {
		rv.bad++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	rv.bodies = append(rv.bodies, string(b))
}

type env struct {
	h       http.Handler
	store   *handoff.Store
	starter *starter
	rec     *audit.Recorder
	log     *loggingtest.Buffer
	keys    map[string]string // key id -> raw key
	sender  *webhook.Sender
	hooks   *receiver
	lifter  *fakeLifter
	bodies  []string // every API response body
}

func newEnv(t *testing.T, perMinute int) *env {
	t.Helper()
	lg, buf := loggingtest.Capture(t)
	e := &env{rec: &audit.Recorder{}, log: buf, keys: map[string]string{}, hooks: &receiver{}}
	srv := httptest.NewServer(e.hooks)
	t.Cleanup(srv.Close)
	scopes := map[string][]apikey.Scope{
		"itsm":       {apikey.ScopeCreate, apikey.ScopeRead},
		"other":      {apikey.ScopeCreate, apikey.ScopeRead},
		"readonly":   {apikey.ScopeRead},
		"createonly": {apikey.ScopeCreate},
		"helpdesk":   {apikey.ScopeLift},
	}
	var keys []apikey.Key
	for id, sc := range scopes {
		raw, err := apikey.Generate(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		e.keys[id] = raw.Reveal()
		h, _ := apikey.ParseHash(apikey.Hash(raw))
		k := apikey.Key{ID: id, Hash: h, Scopes: sc}
		if id == "itsm" {
			k.Webhook = webhook.Target{Name: k.Requester(), URL: srv.URL + "/hook", Secret: secret.New(hookSecret)}
		}
		keys = append(keys, k)
	}
	set := apikey.New(keys...)
	mem := memory.New()
	e.sender = webhook.NewSender(webhook.Options{AllowLoopbackHTTP: true, Log: lg, Backoff: time.Millisecond})
	t.Cleanup(func() { e.sender.Close() })
	e.store = handoff.NewStore(mem, bytes.Repeat([]byte("h"), 32), handoff.Options{Audit: e.rec, Log: lg,
		Terminal: webhook.NewNotifier(e.sender, set, lg)})
	e.starter = &starter{s: e.store}
	e.lifter = &fakeLifter{known: map[string]bool{"amartin": true}}
	e.h = api.New(api.Options{Handoffs: e.store, Starter: e.starter, Lifter: e.lifter, Audit: e.rec, Log: lg, Store: mem,
		Channels: func() []string { return []string{"slack", "sms"} },
		Guard:    &apikey.Guard{Keys: set, Limiter: apikey.NewLimiter(mem, perMinute), Audit: e.rec, Log: lg}})
	t.Cleanup(func() { e.assertNoSecrets(t) })
	return e
}

// assertNoSecrets checks logs, audit, API responses and webhook bodies for
// every key, code and webhook secret.
func (e *env) assertNoSecrets(t *testing.T) {
	t.Helper()
	secrets := []string{hookSecret}
	for _, k := range e.keys {
		secrets = append(secrets, k)
	}
	e.starter.mu.Lock()
	secrets = append(secrets, e.starter.codes...)
	e.starter.mu.Unlock()
	e.log.AssertNoSecrets(t, secrets...)
	audittest.AssertNoSecrets(t, e.rec, secrets...)
	e.hooks.mu.Lock()
	all := strings.Join(append(append([]string(nil), e.bodies...), e.hooks.bodies...), "\n")
	e.hooks.mu.Unlock()
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("secret %q in an API response or webhook body", s)
		}
	}
}

type req struct {
	method, path, key, ctype, body string
	header                         map[string]string
}

func (e *env) do(t *testing.T, r req) *httptest.ResponseRecorder {
	t.Helper()
	hr := httptest.NewRequest(r.method, r.path, strings.NewReader(r.body))
	if r.key != "" {
		hr.Header.Set("Authorization", "Bearer "+r.key)
	}
	if r.ctype != "" {
		hr.Header.Set("Content-Type", r.ctype)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, hr)
	e.bodies = append(e.bodies, w.Body.String())
	return w
}

func (e *env) create(t *testing.T, key, body string) (int, map[string]any) {
	t.Helper()
	w := e.do(t, req{method: "POST", path: "/api/v1/handoffs", key: e.keys[key], ctype: "application/json", body: body})
	var out map[string]any
	_ = json.Unmarshal(w.Body.Bytes(), &out)
	return w.Code, out
}

const resetBody = `{"user":"amartin","action":"reset","channel":"slack"}`

func TestCreateAndGet(t *testing.T) {
	e := newEnv(t, 60)
	code, out := e.create(t, "itsm", resetBody)
	if code != http.StatusCreated || out["status"] != "started" || len(out) != 3 {
		t.Fatalf("create: %d %v", code, out)
	}
	id := out["id"].(string)
	if !handoff.ValidID(id) || out["links"].(map[string]any)["self"] != "/api/v1/handoffs/"+id {
		t.Fatalf("create: %v", out)
	}
	if e.starter.calls() != 1 || e.starter.seen[0].Requester != "apikey:itsm" || e.starter.seen[0].User != "amartin" {
		t.Fatalf("starter %+v", e.starter.seen)
	}
	w := e.do(t, req{method: "GET", path: "/api/v1/handoffs/" + id, key: e.keys["itsm"]})
	var v api.View
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil || w.Code != 200 || v.Status != handoff.StatusStarted || len(v.Events) != 2 {
		t.Fatalf("get: %d %s", w.Code, w.Body)
	}
	if w.Header().Get("Cache-Control") != "no-store" {
		t.Fatal("no Cache-Control: no-store")
	}
	audittest.AssertNames(t, e.rec, handoff.NameCreated, handoff.NameStarted, handoff.NameStatus)
}

func TestStartFailure(t *testing.T) {
	e := newEnv(t, 60)
	e.starter.fail = true
	code, out := e.create(t, "itsm", resetBody)
	if code != http.StatusCreated || out["status"] != "failed" {
		t.Fatalf("%d %v", code, out)
	}
	e.waitWebhooks(t, 1)
}

func TestRefusals(t *testing.T) {
	e := newEnv(t, 1000)
	_, out := e.create(t, "itsm", resetBody)
	itsmID := out["id"].(string)
	e.rec.Reset()
	calls := e.starter.calls()
	big := `{"user":"` + strings.Repeat("a", api.MaxBody) + `","action":"reset","channel":"slack"}`
	tests := []struct {
		name   string
		r      req
		status int
		audit  string // reason of the single audit event expected
	}{
		{"no key", req{method: "POST", path: "/api/v1/handoffs", ctype: "application/json", body: resetBody}, 401, apikey.ReasonMissingKey},
		{"unknown key", req{method: "POST", path: "/api/v1/handoffs", key: "rbk_not-a-real-key", ctype: "application/json", body: resetBody}, 401, apikey.ReasonUnknownKey},
		{"basic auth", req{method: "GET", path: "/api/v1/handoffs/" + itsmID, header: map[string]string{"Authorization": "Basic " + e.keys["itsm"]}}, 401, apikey.ReasonMalformed},
		{"key in query", req{method: "GET", path: "/api/v1/handoffs/" + itsmID + "?api_key=" + e.keys["itsm"], key: e.keys["itsm"]}, 401, apikey.ReasonKeyInQuery},
		{"key in query only", req{method: "POST", path: "/api/v1/handoffs?token=" + e.keys["itsm"], ctype: "application/json", body: resetBody}, 401, apikey.ReasonKeyInQuery},
		{"read-only key creates", req{method: "POST", path: "/api/v1/handoffs", key: e.keys["readonly"], ctype: "application/json", body: resetBody}, 403, apikey.ReasonScope},
		{"create-only key reads", req{method: "GET", path: "/api/v1/handoffs/" + itsmID, key: e.keys["createonly"]}, 403, apikey.ReasonScope},
		{"other key's handoff", req{method: "GET", path: "/api/v1/handoffs/" + itsmID, key: e.keys["other"]}, 404, "not_owner"},
		{"wrong content type", req{method: "POST", path: "/api/v1/handoffs", key: e.keys["itsm"], ctype: "text/plain", body: resetBody}, 415, "unsupported_media_type"},
		{"form content type", req{method: "POST", path: "/api/v1/handoffs", key: e.keys["itsm"], ctype: "application/x-www-form-urlencoded", body: "user=amartin"}, 415, "unsupported_media_type"},
		{"unknown field", req{method: "POST", path: "/api/v1/handoffs", key: e.keys["itsm"], ctype: "application/json", body: `{"user":"amartin","action":"reset","channel":"slack","password":"x"}`}, 400, "invalid_request"},
		{"bad action", req{method: "POST", path: "/api/v1/handoffs", key: e.keys["itsm"], ctype: "application/json", body: `{"user":"amartin","action":"delete","channel":"slack"}`}, 400, "invalid_request"},
		{"bad channel", req{method: "POST", path: "/api/v1/handoffs", key: e.keys["itsm"], ctype: "application/json", body: `{"user":"amartin","action":"reset","channel":"fax"}`}, 400, "invalid_request"},
		{"no user", req{method: "POST", path: "/api/v1/handoffs", key: e.keys["itsm"], ctype: "application/json", body: `{"action":"reset","channel":"slack"}`}, 400, "invalid_request"},
		{"control char in user", req{method: "POST", path: "/api/v1/handoffs", key: e.keys["itsm"], ctype: "application/json", body: `{"user":"a\nb","action":"reset","channel":"slack"}`}, 400, "invalid_request"},
		{"two objects", req{method: "POST", path: "/api/v1/handoffs", key: e.keys["itsm"], ctype: "application/json", body: resetBody + resetBody}, 400, "invalid_request"},
		{"not json", req{method: "POST", path: "/api/v1/handoffs", key: e.keys["itsm"], ctype: "application/json", body: `[1]`}, 400, "invalid_request"},
		{"too large", req{method: "POST", path: "/api/v1/handoffs", key: e.keys["itsm"], ctype: "application/json", body: big}, 413, ""},
		{"unknown id", req{method: "GET", path: "/api/v1/handoffs/AAAAAAAAAAAAAAAAAAAAAA", key: e.keys["itsm"]}, 404, ""},
		{"malformed id", req{method: "GET", path: "/api/v1/handoffs/..%2f..%2fx", key: e.keys["itsm"]}, 404, ""},
		{"wrong method", req{method: "DELETE", path: "/api/v1/handoffs/" + itsmID, key: e.keys["itsm"]}, 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.rec.Reset()
			w := e.do(t, tt.r)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			evs := e.rec.Events()
			if tt.audit == "" && len(evs) != 0 || tt.audit != "" && (len(evs) != 1 || evs[0].Reason != tt.audit) {
				t.Fatalf("audit %+v, want one with reason %q", evs, tt.audit)
			}
			if w.Code == 401 || w.Code == 403 {
				var body map[string]string
				if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || len(body) != 1 {
					t.Fatalf("refusal body has detail: %s", w.Body)
				}
			}
		})
	}
	if e.starter.calls() != calls {
		t.Fatal("a refused request started a handoff")
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, 3)
	for i := range 3 {
		if code, _ := e.create(t, "itsm", resetBody); code != 201 {
			t.Fatalf("request %d: %d", i, code)
		}
	}
	w := e.do(t, req{method: "POST", path: "/api/v1/handoffs", key: e.keys["itsm"], ctype: "application/json", body: resetBody})
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Fatalf("4th request: %d", w.Code)
	}
	if code, _ := e.create(t, "other", resetBody); code != 201 {
		t.Fatalf("another key is limited too: %d", code)
	}
	if evs := e.rec.Find(audit.NameRegulationDenied); len(evs) != 1 || evs[0].Actor != "apikey:itsm" {
		t.Fatalf("audit %+v", evs)
	}
}

func (e *env) waitWebhooks(t *testing.T, n int) []string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		e.hooks.mu.Lock()
		got, bad := append([]string(nil), e.hooks.bodies...), e.hooks.bad
		e.hooks.mu.Unlock()
		if bad > 0 {
			t.Fatalf("%d webhooks with a bad signature", bad)
		}
		if len(got) >= n {
			return got
		}
	}
	t.Fatalf("fewer than %d webhooks", n)
	return nil
}

// TestCompletionWebhook: an SMS handoff through the API, its code redeemed
// on the phone, verification and reset reported, then the signed webhook.
func TestCompletionWebhook(t *testing.T) {
	e := newEnv(t, 60)
	ctx := context.Background()
	code, out := e.create(t, "itsm", `{"user":"alice.martin@demo.example","action":"reset","channel":"sms"}`)
	if code != 201 {
		t.Fatalf("%d %v", code, out)
	}
	id := out["id"].(string)
	h, ok, err := e.store.RedeemCode(ctx, secret.New(e.starter.codes[0]))
	if err != nil || !ok || h.ID != id {
		t.Fatalf("redeem: %v %v", ok, err)
	}
	for _, ev := range []handoff.Event{{Status: handoff.StatusVerified, Factor: "sms", Ref: "R-7"}, {Status: handoff.StatusDone, Ref: "R-7"}} {
		if _, err := e.store.Update(ctx, id, ev); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.store.Update(ctx, id, handoff.Event{Status: handoff.StatusFailed}); err == nil {
		t.Fatal("terminal status changed")
	}
	got := e.waitWebhooks(t, 1)
	var c webhook.Completion
	if err := json.Unmarshal([]byte(got[0]), &c); err != nil || c.ID != id || c.Status != handoff.StatusDone ||
		c.Factor != "sms" || c.Ref != "R-7" || c.Action != handoff.ActionReset {
		t.Fatalf("webhook %s", got[0])
	}
	// other key's completions go nowhere: "other" has no webhook.
	_, out = e.create(t, "other", resetBody)
	if _, err := e.store.Update(ctx, out["id"].(string), handoff.Event{Status: handoff.StatusEscalated, Reason: "asked_for_agent"}); err != nil {
		t.Fatal(err)
	}
	e.sender.Close()
	if n := len(e.waitWebhooks(t, 1)); n != 1 {
		t.Fatalf("%d webhooks", n)
	}
}

func TestIdempotency(t *testing.T) {
	e := newEnv(t, 60)
	post := func(key, idem, body string) *httptest.ResponseRecorder {
		return e.do(t, req{method: "POST", path: "/api/v1/handoffs", key: e.keys[key], ctype: "application/json", body: body,
			header: map[string]string{api.IdempotencyHeader: idem}})
	}
	first := post("itsm", "INC0012345", resetBody)
	again := post("itsm", "INC0012345", resetBody)
	if first.Code != 201 || again.Code != 200 || first.Header().Get("Location") != again.Header().Get("Location") {
		t.Fatalf("first %d %s, again %d %s", first.Code, first.Body, again.Code, again.Body)
	}
	if e.starter.calls() != 1 {
		t.Fatalf("user reached %d times", e.starter.calls())
	}
	if w := post("itsm", "INC0012345", `{"user":"bnguyen","action":"reset","channel":"slack"}`); w.Code != http.StatusUnprocessableEntity {
		t.Fatalf("same key, other body: %d", w.Code)
	}
	if w := post("other", "INC0012345", resetBody); w.Code != 201 {
		t.Fatalf("another API key's namespace: %d", w.Code)
	}
	if w := post("itsm", strings.Repeat("x", 200), resetBody); w.Code != 400 {
		t.Fatalf("long key: %d", w.Code)
	}
	var inner *httptest.ResponseRecorder
	e.starter.during = func() { inner = post("itsm", "INC-2", resetBody) }
	if w := post("itsm", "INC-2", resetBody); w.Code != 201 || inner == nil || inner.Code != http.StatusConflict {
		t.Fatalf("concurrent: outer %d inner %v", w.Code, inner)
	}
	e.starter.during = nil
	e.starter.fail = true
	if w := post("itsm", "INC-3", resetBody); w.Code != 201 {
		t.Fatalf("failed start: %d", w.Code)
	}
	if w := post("itsm", "INC-3", resetBody); w.Code != 200 || !strings.Contains(w.Body.String(), `"failed"`) {
		t.Fatalf("replay of a failed start: %d %s", w.Code, w.Body)
	}
}

// TestChannelNotEnabled: a well-formed channel that is not enabled is
// refused before any handoff is made, and the answer lists the enabled ones.
func TestChannelNotEnabled(t *testing.T) {
	e := newEnv(t, 60)
	code, out := e.create(t, "itsm", `{"user":"amartin","action":"reset","channel":"teams"}`)
	detail, _ := out["detail"].(string)
	if code != http.StatusBadRequest || out["error"] != "invalid_request" || !strings.Contains(detail, "slack, sms") {
		t.Fatalf("create on a channel not enabled: %d %v", code, out)
	}
	e.starter.mu.Lock()
	defer e.starter.mu.Unlock()
	if len(e.starter.seen) != 0 {
		t.Errorf("%d handoffs started", len(e.starter.seen))
	}
}
