package twilio_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/notify/twilio/twiliotest"
	"github.com/resetbot/resetbot/internal/bottest"
	ivr "github.com/resetbot/resetbot/ivr/twilio"
)

// TestConformance plays the channel suite on the phone line.
func TestConformance(t *testing.T) { bottest.Run(t, driver{}) }

// driver is the suite's phone: the demo app with Twilio as SMS and call
// provider (the fake, through api_base_url) and the IVR answering signed
// webhooks (harness).
type driver struct{}

func (driver) Name() string { return "phone" }

func (driver) Lacks() map[bottest.Scenario]string {
	return map[bottest.Scenario]string{
		bottest.ScenarioEnroll: "an authenticator cannot be set up by phone (no QR code, no setup key read aloud): " +
			"enroll is a chat-only flow, left out of the phone's menu",
	}
}

func (driver) Open(t *testing.T) bottest.Channel {
	h := newHarness(t)
	// A held conversation is answered with the hold prompt once the turn
	// budget is spent; a short one keeps the busy scenario quick.
	h.openIVR(func(c *ivr.Config) { c.TurnBudget = 100 * time.Millisecond })
	return &phone{h: h, c: h.call("CA" + strings.Repeat("7", 32))}
}

// phone is one call; each webhook is a delivery.
type phone struct {
	h    *harness
	c    *call
	last webhook
	held bool
	// calls is how many code calls Code has read.
	calls int
}

// webhook is one signed request Twilio sent, for a redelivery.
type webhook struct {
	path string
	form url.Values
}

// gathered is a Screen's Raw: the TwiML answered and where its gather posts.
type gathered struct {
	doc  TwiML
	next string
}

// Start calls the line, picks English, the flow's menu key, and keys the
// account's employee number.
func (p *phone) Start(flow bottest.Flow, login string) bottest.Screen {
	h := p.h
	users, err := h.a.Directory.Find(context.Background(), directory.ByLogin, login)
	if err != nil || len(users) != 1 {
		h.t.Fatalf("find %s: %v", login, err)
	}
	p.c.start("1")
	p.Choose(p.screen(p.c.last), "flow."+string(flow))
	return p.Say(users[0].EmployeeNumber)
}

func (p *phone) Say(keys string) bottest.Screen { return p.press(p.c.next, keys) }

func (p *phone) AskForPerson() bottest.Screen { return p.Say("0") }

// Choose presses the key the screen's prompt names for the label ("text
// message, press 2").
func (p *phone) Choose(on bottest.Screen, labelID string) bottest.Screen {
	return p.press(p.key(on, labelID))
}

// key is where the screen's gather posts and the key its prompt names for
// the label.
func (p *phone) key(on bottest.Screen, labelID string) (path, key string) {
	g, _ := on.Raw.(gathered)
	option := p.h.a.Messages.Text("en", labelID, true, nil)
	m := regexp.MustCompile(regexp.QuoteMeta(option) + `, press (\d)`).FindStringSubmatch(g.doc.Text())
	if m == nil || g.next == "" {
		p.h.t.Fatalf("no key for %q in %q", option, g.doc.Text())
	}
	return g.next, m[1]
}

// Masked is never called: the phone offers no masked entry (a reset ends
// with a temporary password by text message).
func (p *phone) Masked(string, string) bottest.Screen {
	p.h.t.Fatal("the phone has no masked entry")
	return bottest.Screen{}
}

// Forge presses the choice's key in a webhook signed with the wrong auth
// token: refused (403) before the engine runs.
func (p *phone) Forge(on bottest.Screen, labelID string) bottest.Screen {
	path, keys := p.key(on, labelID)
	w := httptest.NewRecorder()
	p.h.ivr.ServeHTTP(w, twiliotest.Request("forged-token-0123456789", public+path, path, p.c.form("Digits", keys)))
	if w.Code != http.StatusForbidden {
		p.h.t.Fatalf("forged signature: status %d, want 403", w.Code)
	}
	p.h.twiml = append(p.h.twiml, w.Body.String())
	return bottest.Screen{Text: w.Body.String()}
}

// Replay posts the last webhook again; after a hold it follows the
// redirect, as Twilio does.
func (p *phone) Replay() bottest.Screen {
	if r := p.c.last.Redirect; r != nil && p.last.path != "" {
		return p.post(webhook{strings.TrimPrefix(r.URL, public), p.c.form()})
	}
	return p.post(p.last)
}

func (p *phone) Hold() (release func()) {
	rel := bottest.HoldSession(p.h.t, p.h.a.Store, ivr.Channel, p.c.sid)
	p.held = true
	return func() { rel(); p.held = false }
}

func (p *phone) Advance(d time.Duration) { p.h.advance(d) }
func (p *phone) Now() time.Time          { return p.h.clock() }

func (p *phone) Authenticator(login string) string { return p.h.enrollTOTP(login) }

// Issued are the temporary passwords sent by text message (a phone reset
// ends with one), once the send queue delivered them.
func (p *phone) Issued() []string {
	p.h.waitSends(p.Sent())
	var out []string
	for _, m := range p.h.fake.Messages() {
		if _, after, ok := strings.Cut(m.Body, " is:"); ok && strings.Contains(m.Body, "temporary password") {
			out = append(out, strings.Fields(after)[0])
		}
	}
	return out
}

// Rename: the phone says the engine's common.expired as twilio.expired (a
// goodbye: the call ends).
func (p *phone) Rename(id string) string {
	if id == "common.expired" {
		return "twilio.expired"
	}
	return id
}

// Code returns the code of the newest SMS, or the one the newest code call
// reads after its press-one gate, once the send queue delivered it.
func (p *phone) Code() string {
	h := p.h
	h.waitSends(p.Sent())
	if n := len(h.fake.Calls()); n > p.calls {
		p.calls = n
		return h.hearCode()
	}
	return h.lastSMSCode()
}

// Sent counts the codes handed to the notifier (the audit's code.sent):
// the send queue delivers them to the fake a little later.
func (p *phone) Sent() int { return bottest.Count(p.h.audit.String(), "code.sent") }

func (p *phone) Messages() bottest.Renderer { return p.h.a.Messages }
func (p *phone) Voice() bool                { return true }

func (p *phone) Captured() bottest.Captured { return p.h.captured() }

func (p *phone) press(path, keys string) bottest.Screen {
	return p.post(webhook{path, p.c.form("Digits", keys)})
}

func (p *phone) post(w webhook) bottest.Screen {
	p.h.t.Helper()
	p.last = w
	return p.screen(p.c.do(w.path, w.form))
}

func (p *phone) screen(d TwiML) bottest.Screen {
	s := bottest.Screen{Text: d.Text(), Raw: gathered{doc: d, next: p.c.next}}
	s.Waiting = d.Redirect != nil
	return s
}
