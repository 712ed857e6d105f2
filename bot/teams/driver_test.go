package teams

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/resetbot/resetbot/app"
	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/channel"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/dispatch"
	"github.com/resetbot/resetbot/core/logging/loggingtest"
	"github.com/resetbot/resetbot/core/plugin"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/server"
	"github.com/resetbot/resetbot/internal/bottest"
)

// rig is the Teams bot wired to a demo app, served through core/server,
// talking to the fake Bot Framework.
type rig struct {
	t    *testing.T
	fake *fakeBF
	a    *app.App
	bot  *Bot
	pool *dispatch.Pool
	// inflight counts jobs submitted and not finished, including the ones
	// the bot queues itself (status card updates).
	inflight *atomic.Int64
	http     *httptest.Server
	logs     *loggingtest.Buffer
	audit    *loggingtest.Buffer
	seq      int
	jobs     uint64
	known    []string // secrets used, for the leak sweep
	// locale is the activities' locale; empty is en-US.
	locale string
	// skew moves the app's clock ahead of the wall clock (expiry).
	skew *atomic.Int64
}

func newRig(t *testing.T, tweak ...func(*config.Config)) *rig {
	t.Helper()
	return newRigWith(t, rigOptions{}, tweak...)
}

// rigOptions change what newRig builds.
type rigOptions struct {
	// floor is the timing floor of identification and verification turns
	// (app.Options.Floor; zero: none).
	floor time.Duration
	// workers sizes the worker pool (zero: 2).
	workers int
	// engine wraps the app's engine (nil: as is).
	engine func(channel.Engine) channel.Engine
}

func newRigWith(t *testing.T, o rigOptions, tweak ...func(*config.Config)) *rig {
	t.Helper()
	floor, workers := o.floor, o.workers
	if floor == 0 {
		floor = -1
	}
	if workers == 0 {
		workers = 2
	}
	fake := newFakeBF(t)
	log, buf := loggingtest.Capture(t)
	cfg := config.Default(Registry())
	tc := teamsOf(cfg)
	tc.Enabled, tc.AppID, tc.AppPassword, tc.TenantID = true, testAppID, secret.New(testPassword), testTenant
	tc.OpenIDMetadataURL = fake.srv.URL + "/v1/.well-known/openidconfiguration"
	tc.LoginURL = fake.srv.URL
	tc.ServiceURLHosts = []string{"127.0.0.1"}
	cfg.Audit.File = ""
	for _, f := range tweak {
		f(cfg)
	}
	auditLog, skew := &loggingtest.Buffer{}, &atomic.Int64{}
	clock := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	a, err := app.Build(context.Background(), cfg, app.Options{Floor: floor, Log: log, Audit: audit.NewJSONWriter(auditLog), Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	pool := dispatch.New(workers, 32, 30*time.Second, log)
	t.Cleanup(pool.Close)
	cp := &countingPool{p: pool}
	deps := a.ChannelDeps(log)
	if o.engine != nil {
		deps.Engine = o.engine(deps.Engine)
	}
	bot, err := build(deps, *teamsOf(cfg),
		&http.Client{Timeout: 5 * time.Second}, cp, true)
	if err != nil {
		t.Fatal(err)
	}
	a.AddChannel(&opened{bot: bot})
	srv := server.New(app.ServerSettings(cfg.Server), log, nil)
	srv.Handle(Route, bot)
	hs := httptest.NewServer(srv.PublicHandler())
	t.Cleanup(hs.Close)
	fake.members["29:amartin"] = map[string]string{"id": "29:amartin", "aadObjectId": "aad-amartin",
		"email": "alice.martin@demo.example", "userPrincipalName": "alice.martin@demo.example", "tenantId": testTenant}
	return &rig{t: t, fake: fake, a: a, bot: bot, pool: pool, inflight: &cp.n, http: hs, logs: buf, audit: auditLog, known: []string{testPassword}, skew: skew}
}

// activity is a personal-chat activity from user, as Teams sends it.
func (r *rig) activity(user, typ string) map[string]any {
	r.seq++
	locale := r.locale
	if locale == "" {
		locale = "en-US"
	}
	return map[string]any{
		"type": typ, "id": fmt.Sprintf("in-%d", r.seq), "timestamp": time.Now().UTC().Format(time.RFC3339Nano),
		"serviceUrl": r.fake.srv.URL, "channelId": "msteams", "locale": locale,
		"from":         map[string]string{"id": "29:" + user, "name": user, "aadObjectId": "aad-" + user},
		"conversation": map[string]string{"id": "a:conv-" + user, "conversationType": "personal", "tenantId": testTenant},
		"recipient":    map[string]string{"id": "28:" + testAppID, "name": "resetbot"},
		"channelData":  map[string]any{"tenant": map[string]string{"id": testTenant}},
	}
}

// bearer is a valid channel token for the fake's service URL.
func (r *rig) bearer() string {
	return "Bearer " + sign(r.t, testKeys(r.t)[0], "kid-1", r.fake.tokenClaims(r.fake.srv.URL))
}

// post sends an activity with the given Authorization header.
func (r *rig) post(act any, auth string) (int, []byte) {
	r.t.Helper()
	var body []byte
	switch v := act.(type) {
	case []byte:
		body = v
	default:
		var err error
		if body, err = json.Marshal(v); err != nil {
			r.t.Fatal(err)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, r.http.URL+"/api/messages", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// send posts a signed activity that should be queued, and waits until the
// worker pool has finished it.
func (r *rig) send(act map[string]any) {
	r.t.Helper()
	if code, body := r.post(act, r.bearer()); code != http.StatusOK {
		r.t.Fatalf("POST activity: HTTP %d %s", code, body)
	}
	r.jobs++
	r.idle()
}

// idle waits until every queued job has run.
func (r *rig) idle() {
	r.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := r.pool.Stats()
		if s.Done+s.Panics >= r.jobs && s.Queued == 0 && r.inflight.Load() == 0 {
			if s.Panics > 0 {
				r.t.Fatalf("%d jobs panicked", s.Panics)
			}
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("worker pool not idle: %+v, want %d jobs", s, r.jobs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// say is a typed message in user's personal chat.
func (r *rig) say(user, text string) {
	act := r.activity(user, "message")
	act["text"] = text
	r.send(act)
}

// writes returns the activity writes (POST/PUT) the connector received.
func (r *rig) writes() []captured {
	var out []captured
	for _, c := range r.fake.requests() {
		if strings.HasSuffix(c.Path, "/activities") || (c.Method == http.MethodPut && strings.Contains(c.Path, "/activities/")) {
			out = append(out, c)
		}
	}
	return out
}

// shown is the newest card the bot wrote, and the activity ID it lives at.
func (r *rig) shown() (map[string]any, string) {
	r.t.Helper()
	w := r.writes()
	if len(w) == 0 {
		r.t.Fatal("the bot sent nothing")
	}
	last := w[len(w)-1]
	return cardOf(r.t, []byte(last.Body)), last.ID
}

func cardOf(t testing.TB, body []byte) map[string]any {
	t.Helper()
	var out struct {
		Attachments []struct {
			ContentType string         `json:"contentType"`
			Content     map[string]any `json:"content"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(body, &out); err != nil || len(out.Attachments) != 1 || out.Attachments[0].ContentType != contentTypeCard {
		t.Fatalf("not one adaptive card: %v %s", err, body)
	}
	return out.Attachments[0].Content
}

// texts are the card's TextBlocks.
func texts(card map[string]any) string {
	var b strings.Builder
	for _, e := range list(card["body"]) {
		if m, _ := e.(map[string]any); m["type"] == "TextBlock" {
			b.WriteString(fmt.Sprint(m["text"]) + "\n")
		}
	}
	return b.String()
}

func list(v any) []any { l, _ := v.([]any); return l }

// inputs are the card's input IDs.
func inputs(card map[string]any) []string {
	var ids []string
	for _, e := range list(card["body"]) {
		if m, _ := e.(map[string]any); strings.HasPrefix(fmt.Sprint(m["type"]), "Input.") {
			ids = append(ids, fmt.Sprint(m["id"]))
		}
	}
	return ids
}

// button returns the token of the card action whose signed value is value.
func (r *rig) button(card map[string]any, user, value string) string {
	r.t.Helper()
	var seen []string
	for _, e := range list(card["actions"]) {
		m, _ := e.(map[string]any)
		data, _ := m["data"].(map[string]any)
		tok, _ := data[tokenKey].(string)
		cl, err := r.a.Tokens.Verify(tok, tokenPurpose, "aad-"+user)
		if err != nil {
			r.t.Fatalf("card carries a bad token: %v", err)
		}
		if cl.Value == value {
			return tok
		}
		seen = append(seen, cl.Value)
	}
	r.t.Fatalf("no button %q on the card (have %q):\n%s", value, seen, texts(card))
	return ""
}

// submit is an Action.Submit from the card at cardID.
func (r *rig) submit(user, cardID string, data map[string]any) {
	act := r.activity(user, "message")
	act["value"] = data
	act["replyToId"] = cardID
	r.send(act)
}

var codeRE = regexp.MustCompile(`\b(\d{6,8})\b`)

// code returns the newest one-time code in the outbox.
func (r *rig) code() string {
	r.t.Helper()
	d, ok := r.a.Outbox.Last()
	if !ok {
		r.t.Fatal("outbox is empty")
	}
	m := codeRE.FindStringSubmatch(strings.ReplaceAll(d.Message.Body.Reveal(), ", ", ""))
	if m == nil {
		r.t.Fatalf("no code in %s", d.Message.Summary)
	}
	r.known = append(r.known, m[1])
	return m[1]
}

// sweep runs the suite's one secret sweep (bottest.Sweep) over the logs,
// audit, store and every request the fake Bot Framework received, for every
// secret the test used; a bot access token must not be logged either.
func (r *rig) sweep() {
	r.t.Helper()
	bottest.Sweep(r.t, r.captured(), r.known...)
	if r.logs.Contains("bot-token-") {
		r.t.Error("a bot access token was logged")
	}
}

// captured is what the sweep greps.
func (r *rig) captured() bottest.Captured {
	var out []string
	for _, q := range r.fake.requests() {
		out = append(out, q.Method+" "+q.Path+"\n"+q.Body)
	}
	return bottest.Captured{Logs: r.logs.String(), Audit: r.audit.String(), Stored: bottest.Dump(r.t, r.a.Store), Outbound: out}
}

// rejections are the authn.rejected audit events written so far.
func (r *rig) rejections() []map[string]any {
	var out []map[string]any
	for _, e := range r.audit.Records(r.t) {
		if e["event"] == "authn.rejected" {
			out = append(out, e)
		}
	}
	return out
}

// countingPool counts jobs in flight, so idle also waits for the jobs the
// bot submits from inside other jobs.
type countingPool struct {
	p *dispatch.Pool
	n atomic.Int64
}

// Full forwards dispatch.Pool.Full, so the handler's cheap 503 is tested.
func (c *countingPool) Full() bool { return c.p.Full() }

func (c *countingPool) Submit(j dispatch.Job) error {
	c.n.Add(1)
	err := c.p.Submit(func(ctx context.Context) {
		defer c.n.Add(-1)
		j(ctx)
	})
	if err != nil {
		c.n.Add(-1)
	}
	return err
}

// postStatus sends a signed activity and returns the status and Retry-After.
func (r *rig) postStatus(act map[string]any) (int, string) {
	r.t.Helper()
	body, err := json.Marshal(act)
	if err != nil {
		r.t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, r.http.URL+"/api/messages", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", r.bearer())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

// Registry is the built-in plug-ins (plugins.All), set by the external test
// package (registry_test.go): this package cannot import plugins, which
// registers it.
var Registry func() plugin.Registry

// teamsOf returns the configuration's channels.teams block, adding one with
// its defaults when there is none.
func teamsOf(c *config.Config) *Config {
	if t, ok := c.Channels.Plugins["teams"].(*Config); ok {
		return t
	}
	t := NewConfig().(*Config)
	if c.Channels.Plugins == nil {
		c.Channels.Plugins = map[string]plugin.Config{}
	}
	c.Channels.Plugins["teams"] = t
	return t
}
