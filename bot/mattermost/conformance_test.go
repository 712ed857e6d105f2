package mattermost

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/enrollpage"
	"github.com/resetbot/resetbot/internal/bottest"
)

// TestConformance plays the channel suite on Mattermost through the fake
// server: DMs over the WebSocket, clicks and dialog submissions POSTed to
// the callback routes as the server relays them.
func TestConformance(t *testing.T) { bottest.Run(t, driver{}) }

// driver is the suite's Mattermost: the demo app and a Bot connected to the
// fake server (env).
type driver struct{}

func (driver) Name() string                         { return "mattermost" }
func (driver) Lacks() map[bottest.Scenario]string   { return nil }
func (driver) Open(t *testing.T) bottest.Channel    { return &conn{e: newEnv(t)} }
func (c *conn) Messages() bottest.Renderer          { return c.e.a.Messages }
func (c *conn) Voice() bool                         { return false }
func (c *conn) Captured() bottest.Captured          { return c.e.captured() }
func (c *conn) Code() string                        { return c.e.lastCode() }
func (c *conn) Sent() int                           { return len(c.e.a.Outbox.Messages()) }
func (c *conn) Advance(d time.Duration)             { c.e.advance(d) }
func (c *conn) Now() time.Time                      { return c.e.now() }
func (c *conn) AskForPerson() bottest.Screen        { return c.Say("agent") }
func (c *conn) Replay() bottest.Screen              { return c.send(c.lastEvents, c.last) }
func (c *conn) shownPosts(s bottest.Screen) []*post { p, _ := s.Raw.([]*post); return p }

// Say posts text in the DM: one "posted" event over the WebSocket.
func (c *conn) Say(text string) bottest.Screen {
	return c.send(1, func() {
		id := c.e.f.say(c.user, text)
		c.last, c.lastEvents = func() { c.e.f.resend(id) }, 1
	})
}

// conn is one person in their DM with the bot.
type conn struct {
	e    *env
	user string
	// last redelivers the newest delivery exactly (the same posted event,
	// the same callback body); lastEvents is 1 for an event, 0 for a
	// callback.
	last       func()
	lastEvents int64
	// shown is the newest screen, for the masked entry and the setup link.
	shown bottest.Screen
}

// Start makes login a Mattermost user whose verified email is the
// account's (the identity mapping names the account), and asks for flow.
func (c *conn) Start(flow bottest.Flow, login string) bottest.Screen {
	e := c.e
	users, err := e.a.Directory.Find(context.Background(), directory.ByLogin, login)
	if err != nil || len(users) != 1 {
		e.t.Fatalf("find %s: %v", login, err)
	}
	c.user = "u" + strings.Repeat("x", 25-len(login)) + login
	e.f.setUser(c.user, map[string]any{"username": login, "email": users[0].Email, "email_verified": true,
		"locale": "en", "roles": "system_user"})
	s := c.Say(string(flow))
	if strings.Contains(s.Text, e.msg("identify.prompt")) {
		s = c.Say(login)
	}
	return s
}

// Choose clicks the button labelled labelID as shown on screen on, even
// when the post no longer shows it (an old client).
func (c *conn) Choose(on bottest.Screen, labelID string) bottest.Screen {
	p, a := c.button(on, c.e.msg(labelID))
	return c.click(p, a)
}

// Forge clicks the choice with its signed token altered.
func (c *conn) Forge(on bottest.Screen, labelID string) bottest.Screen {
	p, a := c.button(on, c.e.msg(labelID))
	tok := a.Integration.Context[ctxToken].(string)
	forged := action{ID: a.ID, Name: a.Name, Type: a.Type, Integration: integration{URL: a.Integration.URL,
		Context: map[string]any{ctxKind: kindClick, ctxToken: tok[:len(tok)-4] + "AAAA"}}}
	return c.click(p, forged)
}

func (c *conn) click(p *post, a action) bottest.Screen {
	return c.send(0, func() {
		body, _, _ := c.e.f.clickAction(c.user, p.ChannelID, p.ID, a)
		c.last, c.lastEvents = func() { c.e.f.post(a.Integration.URL, body) }, 0
	})
}

func (c *conn) button(on bottest.Screen, label string) (*post, action) {
	for _, p := range c.shownPosts(on) {
		for _, a := range actionsOf(p) {
			if a.Name == label {
				return p, a
			}
		}
	}
	c.e.t.Fatalf("no button %q on the screen (%q)", label, on.Choices)
	return nil, action{}
}

// Masked opens the password dialog from the newest screen's button and
// submits it; a refusal shown inside the dialog is part of the screen.
func (c *conn) Masked(value, confirm string) bottest.Screen {
	p, a := c.button(c.shown, c.e.msg(msgButtonPassword))
	n := c.e.f.dialogCount()
	if _, status, _ := c.e.f.clickAction(c.user, p.ChannelID, p.ID, a); status != http.StatusOK || c.e.f.dialogCount() != n+1 {
		c.e.t.Fatalf("the password dialog did not open (status %d)", status)
	}
	var resp map[string]any
	s := c.send(0, func() {
		_, _, resp = c.e.f.submit(n, map[string]string{fieldPassword: value, fieldConfirm: confirm})
	})
	if errs, ok := resp["errors"].(map[string]any); ok {
		for _, v := range errs {
			s.Text += "\n" + v.(string)
		}
	}
	return s
}

func (c *conn) Hold() (release func()) {
	return bottest.HoldSession(c.e.t, c.e.a.Store, Name, c.user)
}

func (c *conn) Authenticator(login string) string {
	seed := bottest.EnrollTOTP(c.e.t, c.e.a.Directory, c.e.a.Methods, login, c.e.now())
	c.Advance(time.Minute) // the next code is a new time step
	return seed
}

// setupLink is the enrollment page link in a post's attachment.
var setupLink = regexp.MustCompile(`\]\((https://[^)]+)\)`)

// setupKey is the key on the one-time enrollment page.
var setupKey = regexp.MustCompile(`<code>([A-Z2-7 ]+)</code>`)

// Seed opens the setup link the newest screen carries, as the person's
// browser would, and reads the key the page shows once.
func (c *conn) Seed() string {
	e := c.e
	var link string
	for _, p := range c.shownPosts(c.shown) {
		for _, a := range attachmentsOf(p) {
			if m := setupLink.FindStringSubmatch(a.Text); m != nil {
				link = m[1]
			}
		}
	}
	if !enrollpage.Check("https://resetbot.test", link) {
		e.t.Fatalf("setup link %q is not an enrollment page", link)
	}
	req := httptest.NewRequest(http.MethodPost, enrollpage.Path, strings.NewReader("t="+link[strings.Index(link, "#")+1:]))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	e.pages.ServeHTTP(w, req)
	m := setupKey.FindStringSubmatch(w.Body.String())
	if w.Code != http.StatusOK || m == nil {
		e.t.Fatalf("enrollment page: %d", w.Code)
	}
	return strings.ReplaceAll(m[1], " ", "")
}

// send runs a delivery of events WebSocket events (0 for a callback, which
// queues its turn before it is answered), waits until the bot has read
// them and for the turns it queued (none for a refused or repeated
// delivery), and returns what the bot posted meanwhile.
func (c *conn) send(events int64, deliver func()) bottest.Screen {
	e := c.e
	e.t.Helper()
	n, read, queued, done := e.f.postCount(), e.b.events.Load(), e.b.queued.Load(), e.b.pool.Stats().Done
	deliver()
	waitFor(e.t, "the event read", func() bool { return e.b.events.Load() >= read+events })
	want := done + uint64(e.b.queued.Load()-queued)
	waitFor(e.t, "turns", func() bool { return e.b.pool.Stats().Done >= want })
	posts := e.f.botPosts(n)
	s := bottest.Screen{Text: texts(posts), Raw: posts}
	for _, p := range posts {
		for _, a := range actionsOf(p) {
			s.Choices = append(s.Choices, a.Name)
			s.Masked = s.Masked || a.Name == e.msg(msgButtonPassword)
		}
	}
	c.shown = s
	return s
}
