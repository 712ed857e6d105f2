package slack

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/dispatch"
	"github.com/resetbot/resetbot/core/engine"
)

// request builds a Slack-like request; sign=false leaves the headers out.
func request(method, path, ctype string, body []byte, secret string, ts int64, sign bool) *http.Request {
	r := httptest.NewRequest(method, path, strings.NewReader(string(body)))
	r.Header.Set("Content-Type", ctype)
	if sign {
		r.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts, 10))
		r.Header.Set("X-Slack-Signature", Sign([]byte(secret), ts, body))
	}
	return r
}

// TestRejections sends requests that must be refused before anything is
// parsed or acted on.
func TestRejections(t *testing.T) {
	e := newEnv(t, false)
	h := e.b.Handler()
	now := time.Now().Unix()
	ev := messageEvent("EvX", "U1", "DU1", "reset")
	form := []byte(url.Values{"payload": {`{"type":"block_actions"}`}}.Encode())
	tampered := func() *http.Request {
		r := request("POST", PathEvents, "application/json", ev, testSecret, now, true)
		r.Body = httptest.NewRequest("POST", "/", strings.NewReader(strings.Replace(string(ev), "reset", "unlock", 1))).Body
		return r
	}
	tests := []struct {
		name string
		req  *http.Request
		want int
	}{
		{"wrong secret", request("POST", PathEvents, "application/json", ev, "not-the-secret", now, true), 401},
		{"stale timestamp", request("POST", PathEvents, "application/json", ev, testSecret, now-301, true), 401},
		{"future timestamp", request("POST", PathEvents, "application/json", ev, testSecret, now+301, true), 401},
		{"missing headers", request("POST", PathEvents, "application/json", ev, testSecret, now, false), 401},
		{"tampered body", tampered(), 401},
		{"unsigned challenge", request("POST", PathEvents, "application/json",
			[]byte(`{"type":"url_verification","challenge":"c"}`), testSecret, now, false), 401},
		{"oversized body", request("POST", PathEvents, "application/json",
			[]byte(`{"x":"`+strings.Repeat("a", MaxBody)+`"}`), testSecret, now, true), 413},
		{"wrong content type", request("POST", PathEvents, "text/plain", ev, testSecret, now, true), 415},
		{"GET", request("GET", PathEvents, "application/json", nil, testSecret, now, true), 405},
		{"malformed event", request("POST", PathEvents, "application/json", []byte(`{"type":`), testSecret, now, true), 400},
		{"malformed interaction", request("POST", PathInteractivity, "application/x-www-form-urlencoded",
			[]byte("payload=%7Bnope"), testSecret, now, true), 400},
		{"interaction without user", request("POST", PathInteractivity, "application/x-www-form-urlencoded",
			form, testSecret, now, true), 400},
		{"interaction signed with other secret", request("POST", PathInteractivity, "application/x-www-form-urlencoded",
			form, "x", now, true), 401},
		{"command without user", request("POST", PathCommands, "application/x-www-form-urlencoded",
			[]byte("command=%2Funlock"), testSecret, now, true), 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := strings.Count(e.logs.String(), `"msg":"authn.rejected"`)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, tc.req)
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d", w.Code, tc.want)
			}
			// Each authentication failure is logged exactly once, with a reason.
			logged := strings.Count(e.logs.String(), `"msg":"authn.rejected"`) - before
			if wantLog := tc.want == 401 || tc.want == 413; (logged == 1) != wantLog || logged > 1 {
				t.Errorf("%d authn.rejected lines", logged)
			}
			if strings.Contains(w.Body.String(), "signature") || strings.Contains(w.Body.String(), "stale") {
				t.Errorf("refusal gives detail: %q", w.Body.String())
			}
		})
	}
	if n := e.spy.turns.Load(); n != 0 || e.b.pool.Stats().Done != 0 || e.f.postCount() != 0 {
		t.Fatalf("a refused request acted: %d turns, %d posts", n, e.f.postCount())
	}
	if e.logs.Contains("EvX") || e.logs.Contains("ch4ll") {
		t.Error("a refused payload was logged")
	}
	if !e.logs.Contains(`"reason":"bad signature"`) || !e.logs.Contains(`"reason":"stale timestamp"`) {
		t.Error("signature failures are not logged with a reason")
	}
	// A signed url_verification is answered.
	w := httptest.NewRecorder()
	h.ServeHTTP(w, request("POST", PathEvents, "application/json",
		[]byte(`{"type":"url_verification","token":"t","challenge":"ch4ll"}`), testSecret, now, true))
	if w.Code != 200 || w.Body.String() != "ch4ll" {
		t.Fatalf("url_verification: %d %q", w.Code, w.Body.String())
	}
}

// TestForeignSubmission: a modal submission or a click carrying another
// user's token is refused and nothing acts.
func TestForeignSubmission(t *testing.T) {
	e := newEnv(t, false)
	posts := e.dm("U1", "reset")
	sms := e.find(posts, e.msg("factor.sms"))
	posts = e.click("U1", sms)
	meta, _ := e.openModal("U1", e.find(posts, e.msg("chat.button.code")))
	code := e.lastCode()
	turns, n := e.spy.turns.Load(), e.f.postCount()

	for name, payload := range map[string][]byte{
		"other user":       submitPayload("U2", "trg-x1", meta, code),
		"altered metadata": submitPayload("U1", "trg-x2", meta[:len(meta)-2]+"AA", code),
		"other team":       []byte(strings.Replace(string(submitPayload("U1", "trg-x3", meta, code)), `"T1"`, `"T9"`, 1)),
	} {
		ack := string(e.tr.interact(t, payload))
		if !strings.Contains(ack, `"response_action":"errors"`) {
			t.Errorf("%s: ack %s", name, ack)
		}
	}
	// A button of U1 clicked by U2 gets an ephemeral refusal only.
	e.tr.interact(t, actionPayload("U2", "trg-x4", sms))
	if e.spy.turns.Load() != turns {
		t.Fatal("a foreign submission reached the engine")
	}
	got := e.f.postsSince(n)
	if len(got) != 1 || got[0].Method != "chat.postEphemeral" || got[0].Text != e.msg("chat.refused") {
		t.Fatalf("refusal posts: %+v", got)
	}
	// The owner's submission still works.
	resp, _ := e.submit("U1", meta, code)
	if !closedOrChained(resp) {
		t.Fatalf("owner's submission: %v", resp)
	}
	e.assertNoLeak()
}

// TestIgnored: our own messages, edits, other bots, guests and foreign
// workspaces never start a turn.
func TestIgnored(t *testing.T) {
	e := newEnv(t, false, func(c *config.Config, _ *Options) { slackOf(c).TeamIDs = []string{testTeam} })
	bot := strings.Replace(string(messageEvent("Ev1", "U1", "DU1", "reset")), `"user":"U1"`, `"user":"U1","bot_id":"B1"`, 1)
	edit := strings.Replace(string(messageEvent("Ev2", "U1", "DU1", "reset")), `"user":"U1"`, `"user":"U1","subtype":"message_changed"`, 1)
	channel := strings.Replace(string(messageEvent("Ev3", "U1", "C1", "reset")), `"im"`, `"channel"`, 1)
	foreign := strings.Replace(string(messageEvent("Ev4", "U1", "DU1", "reset")), `"T1"`, `"T9"`, 1)
	for _, body := range []string{bot, edit, channel, foreign} {
		if code := e.tr.event(t, []byte(body)); code != 200 {
			t.Fatalf("status %d", code)
		}
	}
	if e.b.pool.Stats().Queued != 0 || e.spy.turns.Load() != 0 {
		t.Fatal("an ignored event was queued")
	}
	e.f.setUser("U8", fakeUser{Email: "alice.martin@demo.example", Team: "T9"}) // Slack Connect
	for _, u := range []string{"U9", "U8"} {
		posts := e.step(func() { e.tr.event(t, messageEvent("Ev5"+u, u, "D"+u, "reset")) })
		if e.spy.turns.Load() != 0 || len(posts) != 1 || posts[0].Text != e.msg("chat.not_allowed") {
			t.Fatalf("%s: %d turns, posts %+v", u, e.spy.turns.Load(), posts)
		}
	}
}

// TestMentionInChannel: an @mention in a channel gets an ephemeral note
// there, and the prompts go to the DM.
func TestMentionInChannel(t *testing.T) {
	e := newEnv(t, false)
	posts := e.step(func() { e.tr.event(t, mentionEvent("EvM", "U1", "C7", "<@UBOT> reset please")) })
	var eph, dm int
	for _, p := range posts {
		switch {
		case p.Method == "chat.postEphemeral" && p.Channel == "C7" && p.User == "U1":
			eph++
		case p.Method == "chat.postMessage" && p.Channel == "DU1":
			dm++
		default:
			t.Errorf("unexpected post %+v", p)
		}
	}
	if eph != 1 || dm == 0 {
		t.Fatalf("ephemeral %d, DM %d", eph, dm)
	}
}

// TestBusy: when the pool is full the event gets 503 and its claim is
// released, so Slack's retry is processed.
func TestBusy(t *testing.T) {
	pool := dispatch.New(1, 1, time.Minute, nil)
	e := newEnv(t, false, func(_ *config.Config, o *Options) { o.Pool = pool })
	block := make(chan struct{})
	started := make(chan struct{})
	_ = pool.Submit(func(context.Context) { close(started); <-block })
	<-started
	_ = pool.Submit(func(context.Context) { <-block })
	body := messageEvent("EvBusy", "U1", "DU1", "reset")
	if code := e.tr.event(t, body); code != http.StatusServiceUnavailable {
		t.Fatalf("full pool: status %d", code)
	}
	close(block)
	waitFor(t, "drain", func() bool { return pool.Stats().Queued == 0 })
	e.step(func() { e.tr.event(t, body) })
	if e.spy.turns.Load() != 1 {
		t.Fatalf("retry after busy: %d turns", e.spy.turns.Load())
	}
	pool.Close()
}

// TestExpiredButton: a button whose signed token expired never reaches the
// engine (a stale one is refused by it: the conformance suite).
func TestExpiredButton(t *testing.T) {
	x := newEnv(t, false, func(_ *config.Config, o *Options) { o.TokenTTL = time.Nanosecond })
	posts := x.dm("U1", "reset")
	turns := x.spy.turns.Load()
	x.tr.interact(t, actionPayload("U1", "trg-exp", x.find(posts, x.msg("factor.sms"))))
	if x.spy.turns.Load() != turns || !x.logs.Contains(`"reason":"token: expired"`) {
		t.Fatal("an expired button reached the engine")
	}
}

// slowEngine holds every turn until gate is closed: a directory or SMS
// provider that hangs.
type slowEngine struct {
	e    Engine
	gate chan struct{}
}

func (s *slowEngine) Handle(ctx context.Context, t engine.Turn) engine.Reply {
	<-s.gate
	return s.e.Handle(ctx, t)
}

// TestAckWhileEngineIsSlow: Slack is answered while the turn cannot finish;
// a modal whose turn is late is answered 503 (it stays open, with what was
// typed) and the result, once committed, is posted to the DM.
func TestAckWhileEngineIsSlow(t *testing.T) {
	e := newEnv(t, false, func(_ *config.Config, o *Options) { o.SubmitWait = 20 * time.Millisecond })
	posts := e.click("U1", e.find(e.dm("U1", "reset"), e.msg("factor.sms")))
	meta, _ := e.openModal("U1", e.find(posts, e.msg("chat.button.code")))
	code := e.lastCode()

	gate := make(chan struct{})
	e.spy.e = &slowEngine{e: e.a.Engine, gate: gate}
	n, done := e.f.postCount(), e.b.pool.Stats().Done
	form := url.Values{"payload": {string(submitPayload("U1", "trg-slow", meta, code))}}.Encode()
	w := e.tr.(*httpTransport).do(PathInteractivity, "application/x-www-form-urlencoded", []byte(form)) // returns with the engine stuck
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("late submission: status %d %s, want 503", w.Code, w.Body)
	}
	close(gate)
	waitFor(t, "late turn", func() bool { return e.b.pool.Stats().Done > done })
	if got := texts(e.f.postsSince(n)); !strings.Contains(got, e.msg("verify.ok_more")) {
		t.Fatalf("late result not posted to the DM: %q", got)
	}

	// An event is acknowledged only once its turn ran: with the engine stuck
	// past AckBudget, Slack is told 503 (it redelivers), never "ok" for a
	// turn that a crash could still lose.
	gate2 := make(chan struct{})
	e.spy.e = &slowEngine{e: e.a.Engine, gate: gate2}
	done, n = e.b.pool.Stats().Done, e.f.postCount()
	t0 := time.Now()
	if code := e.tr.event(t, messageEvent("EvSlow", "U1", "DU1", "cancel")); code != http.StatusServiceUnavailable {
		t.Fatalf("event with the engine stuck: status %d, want 503", code)
	}
	if took := time.Since(t0); took > AckBudget+500*time.Millisecond {
		t.Fatalf("503 after %v, past the ack budget %v", took, AckBudget)
	}
	close(gate2)
	waitFor(t, "event turn", func() bool { return e.b.pool.Stats().Done > done })
	// The turn could not start within the budget, so it did nothing; Slack's
	// redelivery runs it, and it is acknowledged once its reply is posted.
	e.spy.e = e.a.Engine
	if code := e.tr.event(t, messageEvent("EvSlow", "U1", "DU1", "cancel")); code != http.StatusOK {
		t.Fatalf("redelivery of a finished event: status %d, want 200", code)
	}
	if got := e.f.postsSince(n); len(got) != 1 {
		t.Fatalf("event reply posted %d times: %q", len(got), texts(got))
	}
}
