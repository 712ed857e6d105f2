package teams

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/enrollpage"
	"github.com/resetbot/resetbot/internal/bottest"
)

// TestConformance plays the channel suite in a Teams personal chat, with
// cards whose buttons post messages (Action.Submit) and cards whose buttons
// invoke the bot and get the next card in the HTTP answer (Action.Execute).
func TestConformance(t *testing.T) {
	for _, execute := range []bool{false, true} {
		d := driver{execute: execute}
		t.Run(d.Name(), func(t *testing.T) { bottest.Run(t, d) })
	}
}

// driver is the suite's Teams: the demo app and the bot served through
// core/server, talking to the fake Bot Framework (rig).
type driver struct{ execute bool }

func (d driver) Name() string {
	if d.execute {
		return "teams-execute"
	}
	return "teams-submit"
}

func (driver) Lacks() map[bottest.Scenario]string { return nil }

func (d driver) Open(t *testing.T) bottest.Channel {
	if !d.execute {
		return &conn{r: newRig(t, withPage)}
	}
	return &conn{r: newRig(t, withPage, func(c *config.Config) { teamsOf(c).Actions = ActionsExecute }), execute: true}
}

// conn is one person in a personal chat with the bot.
type conn struct {
	r       *rig
	user    string
	execute bool
	last    map[string]any // the last activity, for a redelivery
	shown   bottest.Screen
	held    bool
}

// shownCard is a Screen's Raw: the newest card and the activity it lives at.
type shownCard struct {
	card map[string]any
	id   string
}

func (c *conn) Start(flow bottest.Flow, login string) bottest.Screen {
	r := c.r
	users, err := r.a.Directory.Find(context.Background(), directory.ByLogin, login)
	if err != nil || len(users) != 1 {
		r.t.Fatalf("find %s: %v", login, err)
	}
	c.user = login
	r.fake.mu.Lock()
	r.fake.members["29:"+login] = map[string]string{"id": "29:" + login, "aadObjectId": "aad-" + login,
		"email": users[0].Email, "userPrincipalName": users[0].Email, "tenantId": testTenant}
	r.fake.mu.Unlock()
	s := c.Say(string(flow))
	if strings.Contains(s.Text, r.a.Messages.Text("en", "identify.prompt", false, nil)) {
		s = c.Say(login)
	}
	return s
}

func (c *conn) Say(text string) bottest.Screen {
	act := c.r.activity(c.user, "message")
	act["text"] = text
	return c.send(act)
}

func (c *conn) AskForPerson() bottest.Screen { return c.Say("agent") }

func (c *conn) Choose(on bottest.Screen, labelID string) bottest.Screen {
	sc, tok := c.action(on, labelID)
	return c.submit(sc.id, map[string]any{tokenKey: tok})
}

// action finds the card action labelled labelID and its signed token.
func (c *conn) action(on bottest.Screen, labelID string) (shownCard, string) {
	sc, _ := on.Raw.(shownCard)
	label := c.r.a.Messages.Text("en", labelID, false, nil)
	for _, a := range list(sc.card["actions"]) {
		m, _ := a.(map[string]any)
		if m["title"] == label {
			data, _ := m["data"].(map[string]any)
			return sc, fmt.Sprint(data[tokenKey])
		}
	}
	c.r.t.Fatalf("no action %q on the card (%q)", label, on.Choices)
	return sc, ""
}

func (c *conn) Masked(value, confirm string) bottest.Screen {
	sc, _ := c.shown.Raw.(shownCard)
	return c.submit(sc.id, map[string]any{tokenKey: c.r.button(sc.card, c.user, valueSecret), fieldPass: value, fieldPass2: confirm})
}

// Forge submits the choice with its signed token altered.
func (c *conn) Forge(on bottest.Screen, labelID string) bottest.Screen {
	sc, tok := c.action(on, labelID)
	return c.submit(sc.id, map[string]any{tokenKey: tok[:len(tok)-4] + "AAAA"})
}

// submit answers the card at cardID: a message carrying the data
// (Action.Submit) or an adaptiveCard/action invoke (Action.Execute).
func (c *conn) submit(cardID string, data map[string]any) bottest.Screen {
	if c.execute {
		act := c.r.activity(c.user, "invoke")
		act["name"], act["replyToId"] = invokeCardAction, cardID
		act["value"] = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": executeVerb, "data": data},
			"trigger": "manual"}
		return c.invoke(act)
	}
	act := c.r.activity(c.user, "message")
	act["value"] = data
	act["replyToId"] = cardID
	return c.send(act)
}

// invoke posts an invoke and returns the card (or message) its HTTP answer
// carries. Teams shows that answer: nothing may go through the connector,
// and the card's buttons invoke again. A held conversation is answered with
// the busy message.
func (c *conn) invoke(act map[string]any) bottest.Screen {
	r := c.r
	r.t.Helper()
	c.last = act
	n := len(r.writes())
	code, body := r.post(act, r.bearer())
	r.jobs++
	r.idle()
	var res struct {
		StatusCode int    `json:"statusCode"`
		Type       string `json:"type"`
		Value      any    `json:"value"`
	}
	if err := json.Unmarshal(body, &res); err != nil || code != http.StatusOK || res.StatusCode != http.StatusOK {
		r.t.Fatalf("invoke: HTTP %d %s (%v)", code, body, err)
	}
	if len(r.writes()) != n {
		r.t.Fatalf("an answered invoke also posted through the connector")
	}
	card, ok := res.Value.(map[string]any)
	if res.Type != invokeTypeCard || !ok {
		return bottest.Screen{Text: fmt.Sprint(res.Value)}
	}
	for _, a := range list(card["actions"]) {
		if a.(map[string]any)["type"] != "Action.Execute" {
			r.t.Fatalf("action %v is not Action.Execute", a)
		}
	}
	return c.show(bottest.Screen{Text: texts(card), Raw: shownCard{card: card, id: fmt.Sprint(act["replyToId"])}})
}

func (c *conn) Replay() bottest.Screen {
	if c.last["type"] == "invoke" {
		return c.invoke(c.last)
	}
	return c.send(c.last)
}

func (c *conn) Hold() (release func()) {
	rel := bottest.HoldSession(c.r.t, c.r.a.Store, Channel, "aad-"+c.user)
	c.held = true
	return func() { rel(); c.held = false }
}

func (c *conn) Advance(d time.Duration) { c.r.skew.Add(int64(d)) }
func (c *conn) Now() time.Time          { return time.Now().Add(time.Duration(c.r.skew.Load())) }

var setupLink = regexp.MustCompile(`"url":"(https://resetbot\.test/enroll#[^"]+)"`)

// Seed opens the setup link of the newest card, as the person's browser
// would, and reads the key the page shows once.
func (c *conn) Seed() string {
	r := c.r
	sc, _ := c.shown.Raw.(shownCard)
	link := setupLink.FindStringSubmatch(string(mustJSON(r.t, sc.card)))
	if link == nil || !enrollpage.Check("https://resetbot.test", link[1]) {
		r.t.Fatalf("no enrollment page link in the card: %q", c.shown.Text)
	}
	req := httptest.NewRequest(http.MethodPost, enrollpage.Path, strings.NewReader("t="+link[1][strings.Index(link[1], "#")+1:]))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	r.a.EnrollPages.ServeHTTP(w, req)
	m := regexp.MustCompile(`<code>([A-Z2-7 ]+)</code>`).FindStringSubmatch(w.Body.String())
	if w.Code != http.StatusOK || m == nil {
		r.t.Fatalf("enrollment page: %d", w.Code)
	}
	return strings.ReplaceAll(m[1], " ", "")
}

func (c *conn) Authenticator(login string) string {
	seed := bottest.EnrollTOTP(c.r.t, c.r.a.Directory, c.r.a.Methods, login, c.Now())
	c.Advance(time.Minute) // the next code is a new time step
	return seed
}

func (c *conn) Code() string               { return c.r.code() }
func (c *conn) Sent() int                  { return len(c.r.a.Outbox.Messages()) }
func (c *conn) Messages() bottest.Renderer { return c.r.a.Messages }
func (c *conn) Voice() bool                { return false }

func (c *conn) Captured() bottest.Captured { return c.r.captured() }

// send posts a signed activity, waits for the worker pool, and returns the
// cards written meanwhile. While the conversation is held the activity is
// answered 503 (the Bot Framework redelivers it).
func (c *conn) send(act map[string]any) bottest.Screen {
	r := c.r
	r.t.Helper()
	c.last = act
	n := len(r.writes())
	code, retryAfter := r.postStatus(act)
	switch {
	case c.held && (code != http.StatusServiceUnavailable || retryAfter == ""):
		// Not acknowledged: the Bot Framework redelivers it.
		r.t.Fatalf("activity on a held conversation: HTTP %d, Retry-After %q; want 503 with Retry-After", code, retryAfter)
	case !c.held && code != http.StatusOK:
		r.t.Fatalf("POST activity: HTTP %d", code)
	}
	r.jobs++
	r.idle()
	s := bottest.Screen{}
	for _, w := range r.writes()[n:] {
		var plain struct {
			Text        string `json:"text"`
			Attachments []any  `json:"attachments"`
		}
		if err := json.Unmarshal([]byte(w.Body), &plain); err == nil && len(plain.Attachments) == 0 {
			s.Text += plain.Text + "\n" // a plain message (a refusal)
			continue
		}
		card := cardOf(r.t, []byte(w.Body))
		s.Text += texts(card)
		s.Raw = shownCard{card: card, id: w.ID}
	}
	return c.show(s)
}

// show completes a screen with its card's choices and masked inputs, and
// remembers it as the newest when it carries a card.
func (c *conn) show(s bottest.Screen) bottest.Screen {
	if sc, ok := s.Raw.(shownCard); ok {
		for _, a := range list(sc.card["actions"]) {
			m, _ := a.(map[string]any)
			s.Choices = append(s.Choices, fmt.Sprint(m["title"]))
		}
		for _, in := range inputs(sc.card) {
			s.Masked = s.Masked || in == fieldPass
		}
		c.shown = s
	}
	return s
}
