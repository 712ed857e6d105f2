package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/resetbot/resetbot/app"
	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/logging/loggingtest"
	"github.com/resetbot/resetbot/core/plugin"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/internal/bottest"
)

const (
	testSecret = "8f742231b10e8888abcd99yyyzzz85a5"
	testTeam   = "T1"
)

// spyEngine counts turns that ran (repeated deliveries, which the engine
// answers without running, are not counted), so tests can assert that
// nothing acted.
type spyEngine struct {
	e     Engine
	turns atomic.Int64
	// down makes StoreUp report an unavailable store.
	down atomic.Bool
}

func (s *spyEngine) StoreUp() bool { return !s.down.Load() }

func (s *spyEngine) Handle(ctx context.Context, t engine.Turn) engine.Reply {
	r := s.e.Handle(ctx, t)
	if !r.Duplicate {
		s.turns.Add(1)
	}
	return r
}

// transport delivers what Slack would send, over HTTP (signed) or the
// Socket Mode WebSocket, and returns the ack body.
type transport interface {
	event(t testing.TB, body []byte) (status int)
	interact(t testing.TB, payload []byte) []byte
	command(t testing.TB, form url.Values) []byte
}

type env struct {
	t     testing.TB
	a     *app.App
	f     *fakeSlack
	b     *Bot
	spy   *spyEngine
	logs  *loggingtest.Buffer
	audit *loggingtest.Buffer
	tr    transport
	// skew moves the app's clock ahead of the wall clock (expiry).
	skew    atomic.Int64
	seq     int
	secrets []string
	// lang is the language of the catalog texts the test looks for; empty
	// is English.
	lang string
}

// webhookClient, when set, sends the app's outbound webhooks (tests that
// receive the handoff completion webhook on a TLS test server set it).
var webhookClient *http.Client

// newEnv builds the demo app and a Bot against the fake Slack, over HTTP or
// Socket Mode.
func newEnv(t testing.TB, socket bool, mutate ...func(*config.Config, *Options)) *env {
	t.Helper()
	log, buf := loggingtest.Capture(t)
	cfg := config.Default(Registry())
	cfg.Server.PublicURL = "https://resetbot.test"
	setSlack(cfg, &Config{Enabled: true, SigningSecret: secret.New(testSecret),
		BotToken: secret.New("xoxb-test"), AppToken: secret.New("xapp-test"), SocketMode: socket})
	e := &env{t: t, f: newFakeSlack(t), logs: buf, audit: &loggingtest.Buffer{}}
	o := Options{Log: log, APIURL: e.f.URL()}
	for _, m := range mutate {
		m(cfg, &o)
	}
	a, err := app.Build(context.Background(), cfg, app.Options{Floor: -1, Log: log, HTTPClient: webhookClient,
		Audit: audit.NewJSONWriter(e.audit), Clock: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	e.a = a
	e.spy = &spyEngine{e: a.Engine}
	e.b = openBot(t, a, e.spy, o)
	e.f.setUser("U1", fakeUser{Email: "alice.martin@demo.example", Locale: "en-US"})
	e.f.setUser("U2", fakeUser{Email: "chiara.rossi@demo.example", Locale: "en-US"})
	e.f.setUser("U3", fakeUser{Email: "farid.haddad@demo.example", Locale: "es-ES"})
	e.f.setUser("U9", fakeUser{Email: "guest@other.example", Locale: "en-US", Guest: true})
	if socket {
		e.tr = e.startSocket()
	} else {
		e.tr = &httpTransport{h: e.b.Handler(), secret: []byte(testSecret)}
	}
	return e
}

// clock is the app's clock: the wall clock, moved ahead by skew.
func (e *env) clock() time.Time { return time.Now().Add(time.Duration(e.skew.Load())) }

// openBot builds the Slack channel on the app, as Mount does: the one place
// that knows how the adapter is constructed. o carries the test's options
// (API URL, log, overrides); eng is the app's engine behind the spy.
func openBot(t testing.TB, a *app.App, eng Engine, o Options) *Bot {
	t.Helper()
	c := a.Config
	o.Config, o.PublicURL, o.Engine, o.Messages, o.Tokens = *slackOf(c), c.Server.PublicURL, eng, a.Messages, a.Tokens
	if o.Store == nil {
		o.Store = a.Store
	}
	if o.Pages == nil {
		o.Pages = a.EnrollPages
	}
	if o.Accounts == nil {
		o.Accounts = a.Directory
	}
	b, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

func (e *env) startSocket() transport {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.b.RunSocketMode(ctx) }()
	e.t.Cleanup(func() { cancel(); <-done })
	select {
	case c := <-e.f.wsConns:
		return &socketTransport{c: c, f: e.f}
	case <-time.After(10 * time.Second):
		e.t.Fatal("socket mode client never connected")
		return nil
	}
}

// httpTransport signs requests with the signing secret and calls the handler.
type httpTransport struct {
	h      http.Handler
	secret []byte
}

func (h *httpTransport) do(path, ctype string, body []byte) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(body)))
	r.Header.Set("Content-Type", ctype)
	ts := time.Now().Unix()
	r.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts, 10))
	r.Header.Set("X-Slack-Signature", Sign(h.secret, ts, body))
	w := httptest.NewRecorder()
	h.h.ServeHTTP(w, r)
	return w
}

func (h *httpTransport) event(t testing.TB, body []byte) int {
	return h.do(PathEvents, "application/json", body).Code
}

func (h *httpTransport) interact(t testing.TB, payload []byte) []byte {
	w := h.do(PathInteractivity, "application/x-www-form-urlencoded", []byte(url.Values{"payload": {string(payload)}}.Encode()))
	if w.Code != http.StatusOK {
		t.Fatalf("interactivity: status %d", w.Code)
	}
	return w.Body.Bytes()
}

func (h *httpTransport) command(t testing.TB, form url.Values) []byte {
	w := h.do(PathCommands, "application/x-www-form-urlencoded", []byte(form.Encode()))
	if w.Code != http.StatusOK {
		t.Fatalf("command: status %d", w.Code)
	}
	return w.Body.Bytes()
}

// socketTransport sends envelopes over the fake's WebSocket and waits for
// the client's ack.
type socketTransport struct {
	c *websocket.Conn
	f *fakeSlack
	n int
}

func (s *socketTransport) send(t testing.TB, typ string, payload any) []byte {
	t.Helper()
	s.n++
	id := "env-" + strconv.Itoa(s.n)
	if err := s.c.WriteJSON(map[string]any{"envelope_id": id, "type": typ, "payload": payload,
		"accepts_response_payload": typ != "events_api"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case m := <-s.f.acks:
			var got string
			_ = json.Unmarshal(m["envelope_id"], &got)
			if got == id {
				return m["payload"]
			}
		case <-deadline:
			t.Fatalf("no ack for %s", id)
		}
	}
}

func (s *socketTransport) event(t testing.TB, body []byte) int {
	s.send(t, "events_api", json.RawMessage(body))
	return http.StatusOK
}

func (s *socketTransport) interact(t testing.TB, payload []byte) []byte {
	return s.send(t, "interactive", json.RawMessage(payload))
}

func (s *socketTransport) command(t testing.TB, form url.Values) []byte {
	m := map[string]string{}
	for k := range form {
		m[k] = form.Get(k)
	}
	return s.send(t, "slash_commands", m)
}

// --- payload builders -----------------------------------------------------

func (e *env) next(prefix string) string {
	e.seq++
	return fmt.Sprintf("%s%d", prefix, e.seq)
}

func messageEvent(eventID, user, channel, text string) []byte {
	b, _ := json.Marshal(map[string]any{"token": "legacy", "team_id": testTeam, "api_app_id": "A1",
		"type": "event_callback", "event_id": eventID, "event_time": time.Now().Unix(),
		"event": map[string]any{"type": "message", "channel_type": "im", "channel": channel, "user": user,
			"text": text, "ts": "1.1"}})
	return b
}

func mentionEvent(eventID, user, channel, text string) []byte {
	b, _ := json.Marshal(map[string]any{"team_id": testTeam, "api_app_id": "A1", "type": "event_callback",
		"event_id": eventID, "event_time": time.Now().Unix(),
		"event": map[string]any{"type": "app_mention", "channel": channel, "user": user, "text": text, "ts": "1.1"}})
	return b
}

// button is one button found in a posted message.
type button struct{ ActionID, BlockID, Value, Label, URL string }

func buttons(posts []posted) []button {
	var out []button
	for _, p := range posts {
		for _, bl := range p.Blocks {
			if bl["type"] != "actions" {
				continue
			}
			els, _ := bl["elements"].([]any)
			for _, el := range els {
				m, _ := el.(map[string]any)
				txt, _ := m["text"].(map[string]any)
				out = append(out, button{ActionID: fmt.Sprint(m["action_id"]), BlockID: fmt.Sprint(bl["block_id"]),
					Value: fmt.Sprint(m["value"]), Label: fmt.Sprint(txt["text"]), URL: fmt.Sprint(m["url"])})
			}
		}
	}
	return out
}

func texts(posts []posted) string {
	var s []string
	for _, p := range posts {
		s = append(s, p.Text)
	}
	return strings.Join(s, "\n")
}

func actionPayload(user, trigger string, b button) []byte {
	out, _ := json.Marshal(map[string]any{"type": "block_actions", "team": map[string]any{"id": testTeam},
		"user": map[string]any{"id": user}, "channel": map[string]any{"id": "D" + user}, "trigger_id": trigger,
		"container": map[string]any{"type": "message", "message_ts": "1.2", "channel_id": "D" + user},
		"message": map[string]any{"ts": "1.2", "text": "prompt", "blocks": []map[string]any{
			{"type": "section", "text": map[string]any{"type": "plain_text", "text": "prompt"}},
			{"type": "actions", "block_id": b.BlockID, "elements": []map[string]any{{"type": "button",
				"action_id": b.ActionID, "value": "v", "text": map[string]any{"type": "plain_text", "text": b.Label}}}}}},
		"actions": []map[string]any{{"type": "button", "action_id": b.ActionID, "block_id": b.BlockID,
			"value": b.Value, "action_ts": "1.3", "text": map[string]any{"type": "plain_text", "text": b.Label}}}})
	return out
}

func submitPayload(user, trigger, meta string, values ...string) []byte {
	state := map[string]any{}
	for i, v := range values {
		state["in"+strconv.Itoa(i+1)] = map[string]any{"v": map[string]any{"type": "plain_text_input", "value": v}}
	}
	out, _ := json.Marshal(map[string]any{"type": "view_submission", "team": map[string]any{"id": testTeam},
		"user": map[string]any{"id": user}, "trigger_id": trigger,
		"view": map[string]any{"id": "V1", "callback_id": callbackModal, "private_metadata": meta,
			"state": map[string]any{"values": state}}})
	return out
}

// --- conversation steps -----------------------------------------------------

// step runs act and waits until the turn it queued has finished, returning
// what the bot posted meanwhile.
func (e *env) step(act func()) []posted {
	e.t.Helper()
	n, done := e.f.postCount(), e.b.pool.Stats().Done
	act()
	waitFor(e.t, "turn", func() bool { return e.b.pool.Stats().Done > done })
	return e.f.postsSince(n)
}

func (e *env) dm(user, text string) []posted {
	e.t.Helper()
	return e.step(func() {
		if code := e.tr.event(e.t, messageEvent(e.next("Ev"), user, "D"+user, text)); code != http.StatusOK {
			e.t.Fatalf("event: status %d", code)
		}
	})
}

func (e *env) click(user string, b button) []posted {
	e.t.Helper()
	return e.step(func() { e.tr.interact(e.t, actionPayload(user, e.next("trg-"), b)) })
}

func (e *env) find(posts []posted, label string) button {
	e.t.Helper()
	for _, b := range buttons(posts) {
		if b.Label == label {
			return b
		}
	}
	e.t.Fatalf("no button %q in %+v", label, buttons(posts))
	return button{}
}

// openModal clicks an "Enter …" button and returns the modal's metadata
// and number of inputs.
func (e *env) openModal(user string, b button) (meta string, inputs int) {
	e.t.Helper()
	n := e.f.viewCount()
	e.tr.interact(e.t, actionPayload(user, e.next("trg-"), b))
	waitFor(e.t, "views.open", func() bool { return e.f.viewCount() > n })
	var v struct {
		PrivateMetadata string           `json:"private_metadata"`
		Blocks          []map[string]any `json:"blocks"`
	}
	if err := json.Unmarshal(e.f.viewAt(n), &v); err != nil {
		e.t.Fatal(err)
	}
	for _, bl := range v.Blocks {
		if bl["type"] == "input" {
			inputs++
		}
	}
	return v.PrivateMetadata, inputs
}

// submit sends a modal and returns the ack and what was posted.
func (e *env) submit(user, meta string, values ...string) (map[string]any, []posted) {
	e.t.Helper()
	var ack []byte
	posts := e.step(func() { ack = e.tr.interact(e.t, submitPayload(user, e.next("trg-"), meta, values...)) })
	resp := map[string]any{}
	if len(ack) > 0 && string(ack) != "null" {
		if err := json.Unmarshal(ack, &resp); err != nil {
			e.t.Fatalf("ack %q: %v", ack, err)
		}
	}
	return resp, posts
}

var codeRE = regexp.MustCompile(`\b(\d{6,8})\b`)

// lastCode reads the code from the demo outbox.
func (e *env) lastCode() string {
	e.t.Helper()
	d, ok := e.a.Outbox.Last()
	if !ok {
		e.t.Fatal("no message in the outbox")
	}
	// Voice calls spell the code ("9, 6, 8, ..."): join the digits.
	body := strings.NewReplacer(", ", "").Replace(d.Message.Body.Reveal())
	m := codeRE.FindStringSubmatch(body)
	if m == nil {
		e.t.Fatal("no code in the outbox message")
	}
	e.secrets = append(e.secrets, m[1])
	return m[1]
}

func (e *env) msg(id string) string {
	lang := e.lang
	if lang == "" {
		lang = "en"
	}
	return e.a.Messages.Text(lang, id, false, nil)
}

// msgBefore is the text of a catalog message up to its first placeholder
// (its longest fixed part), for finding a reply whose variables the test
// does not know (a reference ID).
func (e *env) msgBefore(id, placeholder string) string {
	lang := e.lang
	if lang == "" {
		lang = "en"
	}
	best := ""
	for _, part := range strings.Split(e.a.Messages.Text(lang, id, false, map[string]string{placeholder: "\x00"}), "\x00") {
		if len(part) > len(best) {
			best = part
		}
	}
	return best
}

// assertNoLeak runs the suite's one secret sweep (bottest.Sweep) over the
// logs, audit, store and everything sent to the fake Slack, for every
// secret the test used.
func (e *env) assertNoLeak(extra ...string) {
	e.t.Helper()
	bottest.Sweep(e.t, e.captured(), append(append([]string(nil), e.secrets...), extra...)...)
}

// captured is what the sweep greps: logs, audit, stored values and every
// body sent to the fake Slack (API calls and Socket Mode acks).
func (e *env) captured() bottest.Captured {
	return bottest.Captured{Logs: e.logs.String(), Audit: e.audit.String(), Stored: bottest.Dump(e.t, e.a.Store),
		Outbound: e.f.bodyList()}
}

func homeEvent(eventID, user string) []byte {
	b, _ := json.Marshal(map[string]any{"team_id": testTeam, "api_app_id": "A1", "type": "event_callback",
		"event_id": eventID, "event_time": time.Now().Unix(),
		"event": map[string]any{"type": "app_home_opened", "user": user, "channel": "D" + user, "tab": "home"}})
	return b
}

// shortcutPayload is a global ("global") or message ("message") shortcut.
func shortcutPayload(kind, callback, user, trigger string) []byte {
	m := map[string]any{"type": "shortcut", "callback_id": callback, "trigger_id": trigger,
		"team": map[string]any{"id": testTeam}, "user": map[string]any{"id": user}}
	if kind == "message" {
		m["type"], m["channel"], m["message_ts"] = "message_action", map[string]any{"id": "C1"}, "1.5"
	}
	out, _ := json.Marshal(m)
	return out
}

func (e *env) homeCount() int {
	e.f.mu.Lock()
	defer e.f.mu.Unlock()
	return len(e.f.published)
}

// closedOrChained reports whether a submission's ack accepted the input:
// the modal closes, or the next masked prompt replaces it.
func closedOrChained(resp map[string]any) bool {
	return resp["response_action"] == "clear" || resp["response_action"] == "update"
}

// Registry is the built-in plug-ins (plugins.All), set by the external test
// package (registry_test.go): this package cannot import plugins, which
// registers it.
var Registry func() plugin.Registry

// setSlack makes s the configuration's channels.slack block.
func setSlack(c *config.Config, s *Config) {
	if c.Channels.Plugins == nil {
		c.Channels.Plugins = map[string]plugin.Config{}
	}
	c.Channels.Plugins["slack"] = s
}

// slackOf returns the configuration's channels.slack block, adding one
// with its defaults when there is none.
func slackOf(c *config.Config) *Config {
	if s, ok := c.Channels.Plugins["slack"].(*Config); ok {
		return s
	}
	s := NewConfig().(*Config)
	setSlack(c, s)
	return s
}
