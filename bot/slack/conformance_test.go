package slack

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/enrollpage"
	"github.com/resetbot/resetbot/internal/bottest"
)

// TestConformance plays the channel suite over the Events API and Socket
// Mode.
func TestConformance(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) { bottest.Run(t, driver{socket: tr.socket}) })
	}
}

// driver is the suite's Slack: the demo app and a Bot against the fake
// Slack (env), over HTTP or Socket Mode.
type driver struct{ socket bool }

func (d driver) Name() string {
	if d.socket {
		return "slack-socket"
	}
	return "slack-events"
}

func (driver) Lacks() map[bottest.Scenario]string { return nil }

func (d driver) Open(t *testing.T) bottest.Channel {
	return &conn{e: newEnv(t, d.socket)}
}

// conn is one person in a DM with the bot.
type conn struct {
	e    *env
	user string
	last delivery
	// shown is the newest screen, for the masked entry and the setup link.
	shown bottest.Screen
	held  bool
}

// delivery is what Slack sent last, for a redelivery.
type delivery struct {
	kind string // "event" or "interact"
	body []byte
}

func (c *conn) Start(flow bottest.Flow, login string) bottest.Screen {
	e := c.e
	users, err := e.a.Directory.Find(context.Background(), directory.ByLogin, login)
	if err != nil || len(users) != 1 {
		e.t.Fatalf("find %s: %v", login, err)
	}
	c.user = "U" + strings.ToUpper(login)
	e.f.setUser(c.user, fakeUser{Email: users[0].Email, Locale: "en-US"})
	s := c.Say(string(flow))
	if strings.Contains(s.Text, e.msg("identify.prompt")) {
		s = c.Say(login)
	}
	return s
}

func (c *conn) Say(text string) bottest.Screen {
	return c.send(delivery{"event", messageEvent(c.e.next("Ev"), c.user, "D"+c.user, text)})
}

func (c *conn) AskForPerson() bottest.Screen { return c.Say("agent") }

func (c *conn) Choose(on bottest.Screen, labelID string) bottest.Screen {
	b := c.button(on, c.e.msg(labelID))
	return c.send(delivery{"interact", actionPayload(c.user, c.e.next("trg-"), b)})
}

func (c *conn) button(on bottest.Screen, label string) button {
	posts, _ := on.Raw.([]posted)
	for _, b := range buttons(posts) {
		if b.Label == label {
			return b
		}
	}
	c.e.t.Fatalf("no button %q on the screen (%q)", label, on.Choices)
	return button{}
}

func (c *conn) Masked(value, confirm string) bottest.Screen {
	meta, _ := c.e.openModal(c.user, c.button(c.shown, c.e.msg("chat.button.password")))
	resp, posts := c.e.submit(c.user, meta, value, confirm)
	s := c.screen(posts)
	if errs, ok := resp["errors"].(map[string]any); ok {
		for _, v := range errs {
			s.Text += "\n" + v.(string)
		}
	}
	return s
}

// Forge clicks the choice with its signed token altered.
func (c *conn) Forge(on bottest.Screen, labelID string) bottest.Screen {
	b := c.button(on, c.e.msg(labelID))
	b.Value = b.Value[:len(b.Value)-4] + "AAAA"
	return c.send(delivery{"interact", actionPayload(c.user, c.e.next("trg-"), b)})
}

func (c *conn) Replay() bottest.Screen { return c.send(c.last) }

func (c *conn) Hold() (release func()) {
	r := bottest.HoldSession(c.e.t, c.e.a.Store, Channel, userKey(testTeam, c.user))
	c.held = true
	return func() { r(); c.held = false }
}

func (c *conn) Advance(d time.Duration) { c.e.skew.Add(int64(d)) }
func (c *conn) Now() time.Time          { return c.e.clock() }

// setupKey is the key on the one-time enrollment page.
var setupKey = regexp.MustCompile(`<code>([A-Z2-7 ]+)</code>`)

// Seed opens the setup link the newest screen carries, as the person's
// browser would, and reads the key the page shows once.
func (c *conn) Seed() string {
	e := c.e
	link := c.button(c.shown, e.msg("chat.button.open_setup")).URL
	if !enrollpage.Check("https://resetbot.test", link) {
		e.t.Fatalf("setup link %q is not an enrollment page", link)
	}
	req := httptest.NewRequest(http.MethodPost, enrollpage.Path, strings.NewReader("t="+link[strings.Index(link, "#")+1:]))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	e.a.EnrollPages.ServeHTTP(w, req)
	m := setupKey.FindStringSubmatch(w.Body.String())
	if w.Code != http.StatusOK || m == nil {
		e.t.Fatalf("enrollment page: %d", w.Code)
	}
	return strings.ReplaceAll(m[1], " ", "")
}

func (c *conn) Authenticator(login string) string {
	seed := bottest.EnrollTOTP(c.e.t, c.e.a.Directory, c.e.a.Methods, login, c.e.clock())
	c.Advance(time.Minute) // the next code is a new time step
	return seed
}

func (c *conn) Code() string               { return c.e.lastCode() }
func (c *conn) Sent() int                  { return len(c.e.a.Outbox.Messages()) }
func (c *conn) Messages() bottest.Renderer { return c.e.a.Messages }
func (c *conn) Voice() bool                { return false }

func (c *conn) Captured() bottest.Captured { return c.e.captured() }

// send delivers d as Slack would and returns what was posted before the
// ack (Slack is acknowledged once the turn's reply is posted). While the
// conversation is held the ack is withheld (503): then the turn is waited
// for instead.
func (c *conn) send(d delivery) bottest.Screen {
	e := c.e
	e.t.Helper()
	c.last = d
	n, done := e.f.postCount(), e.b.pool.Stats().Done
	if c.held {
		// Slack is answered 503 (or, over Socket Mode, not acknowledged):
		// an event is redelivered, a click shows the person an error.
		code := make(chan int, 1)
		go func() { code <- c.deliver(d) }()
		waitFor(e.t, "held turn", func() bool { return e.b.pool.Stats().Done > done })
		if got := <-code; got != http.StatusServiceUnavailable {
			e.t.Fatalf("%s on a held conversation: status %d, want 503", d.kind, got)
		}
	} else if code := c.deliver(d); code != http.StatusOK {
		e.t.Fatalf("%s: status %d", d.kind, code)
	}
	c.shown = c.screen(e.f.postsSince(n))
	return c.shown
}

// deliver sends d over the transport; over Socket Mode it waits for the ack
// unless the conversation is held.
func (c *conn) deliver(d delivery) int {
	e := c.e
	if h, ok := e.tr.(*httpTransport); ok {
		path, ctype, body := PathEvents, "application/json", d.body
		if d.kind == "interact" {
			path, ctype = PathInteractivity, "application/x-www-form-urlencoded"
			body = []byte(url.Values{"payload": {string(d.body)}}.Encode())
		}
		return h.do(path, ctype, body).Code
	}
	s := e.tr.(*socketTransport)
	typ := "events_api"
	if d.kind == "interact" {
		typ = "interactive"
	}
	if c.held {
		s.n++
		_ = s.c.WriteJSON(map[string]any{"envelope_id": "held-" + e.next("env"), "type": typ,
			"payload": json.RawMessage(d.body), "accepts_response_payload": typ != "events_api"})
		return http.StatusServiceUnavailable
	}
	s.send(e.t, typ, json.RawMessage(d.body))
	return http.StatusOK
}

func (c *conn) screen(posts []posted) bottest.Screen {
	s := bottest.Screen{Text: texts(posts), Raw: posts}
	pw := c.e.msg("chat.button.password")
	for _, b := range buttons(posts) {
		s.Choices = append(s.Choices, b.Label)
		s.Masked = s.Masked || b.Label == pw
	}
	return s
}
