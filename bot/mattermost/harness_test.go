package mattermost

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/resetbot/resetbot/app"
	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/enrollpage"
	"github.com/resetbot/resetbot/core/logging/loggingtest"
	"github.com/resetbot/resetbot/core/plugin"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/internal/bottest"
)

const testCallbackKey = "mattermost-callback-key-0123456789abcdef"

// Demo people (core/app's demo directory), as Mattermost users.
var (
	uAlice  = "u" + strings.Repeat("a", 25) // amartin, authenticator + SMS + email
	uChiara = "u" + strings.Repeat("c", 25) // crossi, locked
	uNobody = "u" + strings.Repeat("n", 25)
	uGuest  = "u" + strings.Repeat("g", 25)
)

// spyEngine counts the turns that ran, so tests can assert that nothing
// acted.
type spyEngine struct {
	e     Engine
	turns atomic.Int64
}

func (s *spyEngine) Handle(ctx context.Context, t engine.Turn) engine.Reply {
	r := s.e.Handle(ctx, t)
	if !r.Duplicate {
		s.turns.Add(1)
	}
	return r
}

// Run is the engine's Run (the Bot prefers it: the timing floor is waited
// out off the worker).
func (s *spyEngine) Run(ctx context.Context, t engine.Turn) engine.Reply {
	r := s.e.(runner).Run(ctx, t)
	if !r.Duplicate {
		s.turns.Add(1)
	}
	return r
}

type env struct {
	t       testing.TB
	a       *app.App
	f       *fakeMM
	b       *Bot
	spy     *spyEngine
	logs    *loggingtest.Buffer
	audit   *loggingtest.Buffer
	pages   *enrollpage.Pages
	cb      *httptest.Server
	secrets []string
	// skew moves the clock of the app and the Bot ahead of the wall clock.
	skew atomic.Int64
}

// newEnv builds the demo app and a Bot connected to a fake Mattermost,
// its callback routes served on a test server the fake POSTs to.
func newEnv(t testing.TB, mutate ...func(*Options)) *env {
	t.Helper()
	log, buf := loggingtest.Capture(t)
	cfg := config.Default(Registry())
	cfg.Server.PublicURL = "https://resetbot.test"
	e := &env{t: t, f: newFakeMM(t), logs: buf, audit: &loggingtest.Buffer{}}
	a, err := app.Build(context.Background(), cfg, app.Options{Floor: -1, Log: log,
		Audit: audit.NewJSONWriter(e.audit), Clock: e.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	e.a = a
	e.spy = &spyEngine{e: a.Engine}
	var h handlerProxy
	e.cb = httptest.NewServer(&h)
	t.Cleanup(e.cb.Close)
	o := Options{Config: Config{Enabled: true, URL: e.f.srv.URL, BotToken: secret.New(fakeBotToken),
		CallbackKey: secret.New(testCallbackKey), CallbackURL: e.cb.URL},
		Engine: e.spy, Messages: a.Messages, Store: a.Store, Accounts: a.Directory, Audit: a.Audit, Log: log,
		Clock: e.now}
	// The app builds enrollment pages when an enabled channel's settings
	// use them (channel.PageUser, which Config is); this configuration has
	// no channels.mattermost block, so the pages are built here.
	if e.pages, err = enrollpage.New(enrollpage.Options{Store: a.Store, Key: []byte(testCallbackKey + "-pages"),
		PublicURL: cfg.Server.PublicURL, Texts: a.Messages, Audit: a.Audit, Log: log, Clock: e.now}); err != nil {
		t.Fatal(err)
	}
	o.Pages = e.pages
	for _, m := range mutate {
		m(&o)
	}
	if e.b, err = New(o); err != nil {
		t.Fatal(err)
	}
	handler := e.b.Handler()
	h.h.Store(&handler)
	ctx, cancel := context.WithCancel(context.Background())
	if err := e.b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		sctx, c := context.WithTimeout(context.Background(), 10*time.Second)
		defer c()
		_ = e.b.Shutdown(sctx)
	})
	e.f.waitConn()
	e.f.setUser(uAlice, map[string]any{"username": "alice", "email": "alice.martin@demo.example",
		"email_verified": true, "locale": "en", "roles": "system_user"})
	e.f.setUser(uChiara, map[string]any{"username": "chiara", "email": "chiara.rossi@demo.example",
		"email_verified": true, "locale": "en", "roles": "system_user"})
	e.f.setUser(uNobody, map[string]any{"username": "nobody", "locale": "en", "roles": "system_user"})
	e.f.setUser(uGuest, map[string]any{"username": "guest", "email": "guest@other.example",
		"email_verified": true, "locale": "en", "roles": "system_guest"})
	return e
}

// Registry is the built-in plug-ins (plugins.All), set by the external
// test package: this package cannot import plugins, which registers it.
var Registry func() plugin.Registry

// handlerProxy lets the callback server start before the Bot exists (its
// URL is part of the Bot's settings).
type handlerProxy struct{ h atomic.Pointer[http.Handler] }

func (p *handlerProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*p.h.Load()).ServeHTTP(w, r)
}

// now is the clock of the app and the Bot: the wall clock, moved ahead.
func (e *env) now() time.Time { return time.Now().Add(time.Duration(e.skew.Load())) }

// advance moves the clock forward by d (token expiry, session timeout).
func (e *env) advance(d time.Duration) { e.skew.Add(int64(d)) }

// step runs act and waits until as many more turns as want have finished
// on the pool, returning the bot's posts meanwhile.
func (e *env) step(want uint64, act func()) []*post {
	e.t.Helper()
	n, done := e.f.postCount(), e.b.pool.Stats().Done
	act()
	waitFor(e.t, "turn", func() bool { return e.b.pool.Stats().Done >= done+want })
	return e.f.botPosts(n)
}

// dm is the person typing text in the DM; it returns the bot's replies
// and the ID of the typed post.
func (e *env) dm(user, text string) ([]*post, string) {
	e.t.Helper()
	var id string
	posts := e.step(1, func() { id = e.f.say(user, text) })
	return posts, id
}

// click clicks the button labelled label in posts and waits for its turn.
func (e *env) click(user string, posts []*post, label string) []*post {
	e.t.Helper()
	p, a := e.find(posts, label)
	return e.step(1, func() {
		if _, status, _ := e.f.click(user, p.ID, a.ID); status != 200 {
			e.t.Fatalf("click %q: status %d", label, status)
		}
	})
}

// openDialog clicks an "Enter …" button and returns the opened dialog's
// index.
func (e *env) openDialog(user string, posts []*post, label string) int {
	e.t.Helper()
	n := e.f.dialogCount()
	p, a := e.find(posts, label)
	if _, status, _ := e.f.click(user, p.ID, a.ID); status != 200 {
		e.t.Fatalf("open %q: status %d", label, status)
	}
	if e.f.dialogCount() != n+1 {
		e.t.Fatalf("no dialog opened by %q", label)
	}
	return n
}

// submit submits dialog n and waits for its turn.
func (e *env) submit(n int, values map[string]string) (map[string]any, []*post) {
	e.t.Helper()
	for _, v := range values {
		e.secrets = append(e.secrets, v)
	}
	var resp map[string]any
	posts := e.step(1, func() {
		var status int
		if _, status, resp = e.f.submit(n, values); status != 200 {
			e.t.Fatalf("submit: status %d", status)
		}
	})
	return resp, posts
}

func (e *env) find(posts []*post, label string) (*post, action) {
	e.t.Helper()
	for _, p := range posts {
		for _, a := range actionsOf(p) {
			if a.Name == label {
				return p, a
			}
		}
	}
	e.t.Fatalf("no button %q in %s", label, texts(posts))
	return nil, action{}
}

// texts are the posts' messages, unescaped.
func texts(posts []*post) string {
	var s []string
	for _, p := range posts {
		s = append(s, plain(p.Message))
	}
	return strings.Join(s, "\n")
}

func (e *env) msg(id string) string { return e.a.Messages.Text("en", id, false, nil) }

var codeRE = regexp.MustCompile(`\b(\d{6,8})\b`)

// lastCode reads the code from the demo outbox.
func (e *env) lastCode() string {
	e.t.Helper()
	d, ok := e.a.Outbox.Last()
	if !ok {
		e.t.Fatal("no message in the outbox")
	}
	body := strings.NewReplacer(", ", "").Replace(d.Message.Body.Reveal())
	m := codeRE.FindStringSubmatch(body)
	if m == nil {
		e.t.Fatal("no code in the outbox message")
	}
	e.secrets = append(e.secrets, m[1])
	return m[1]
}

// assertNoLeak runs the suite's one secret sweep (bottest.Sweep) over the
// logs, the audit trail, the stored values and every request the bot sent
// to Mattermost, for each secret the test used.
func (e *env) assertNoLeak(extra ...string) {
	e.t.Helper()
	bottest.Sweep(e.t, e.captured(), append(append([]string(nil), e.secrets...), extra...)...)
}

func (e *env) captured() bottest.Captured {
	return bottest.Captured{Logs: e.logs.String(), Audit: e.audit.String(), Stored: bottest.Dump(e.t, e.a.Store),
		Outbound: []string{e.f.allBodies()}}
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
