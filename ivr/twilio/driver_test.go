package twilio_test

import (
	"context"
	"encoding/xml"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/app"
	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/logging/loggingtest"
	notifytwilio "github.com/resetbot/resetbot/core/notify/twilio"
	"github.com/resetbot/resetbot/core/notify/twilio/twiliotest"
	"github.com/resetbot/resetbot/core/plugin"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/internal/bottest"
	ivr "github.com/resetbot/resetbot/ivr/twilio"
	"github.com/resetbot/resetbot/plugins"
)

const (
	public   = "https://bot.example.com"
	helpDesk = "+15555550199"
	caller   = "+15555550142"
)

// harness is a resetbot built from the demo configuration with Twilio as the
// SMS and call provider (pointed at a fake), and the IVR handler.
type harness struct {
	t     testing.TB
	a     *app.App
	fake  *twiliotest.Server
	ivr   *ivr.Handler
	code  *notifytwilio.CodeHandler
	logs  *loggingtest.Buffer
	audit *loggingtest.Buffer
	log   *slog.Logger
	mu    sync.Mutex
	now   time.Time
	twiml []string // every TwiML document the IVR answered
	seed  string   // the authenticator seed enrolled, if any
}

func newHarness(t testing.TB, mutate ...func(*config.Config)) *harness {
	t.Helper()
	h := &harness{t: t, now: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
	h.fake = twiliotest.New(t)
	cfg := config.Default(plugins.All())
	cfg.Server.PublicURL = public
	cfg.Audit.File = "" // captured below instead
	delete(cfg.Notify.Plugins, "outbox")
	cfg.Notify.SMS.Provider = "twilio"
	cfg.Channels.Plugins = map[string]plugin.Config{"twilio": &ivr.Settings{Enabled: true,
		Account: notifytwilio.Account{AccountSID: twiliotest.AccountSID, AuthToken: secret.New(twiliotest.AuthToken),
			FromNumber: "+15555550100", AllowedPrefixes: []string{"+1"},
			// The REST calls go to the fake through the client's own base
			// URL setting (an egress proxy in production), not a
			// process-wide transport.
			APIBaseURL: h.fake.URL},
		HelpDeskNumber: helpDesk, Languages: []string{"en", "es"}}}
	for _, m := range mutate {
		m(cfg)
	}
	log, buf := loggingtest.Capture(t)
	h.logs = buf
	h.audit = &loggingtest.Buffer{}
	a, err := app.Build(context.Background(), cfg, app.Options{Floor: -1, Log: log, Clock: h.clock, Audit: audit.NewJSONWriter(h.audit)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	h.a = a
	h.log = log
	h.openIVR()
	tc := phoneOf(cfg)
	h.code = &notifytwilio.CodeHandler{Auth: notifytwilio.NewWebhookAuth(public, tc.AccountSID, tc.AuthToken, log),
		Store: a.Store, Key: notifytwilio.CodeKey(tc.AuthToken), Messages: a.Messages, Log: log}
	return h
}

// phoneOf is the channels.twilio block of cfg (the harness puts one there).
func phoneOf(cfg *config.Config) *ivr.Settings { return cfg.Channels.Plugins["twilio"].(*ivr.Settings) }

// openIVR builds the phone line on the app, as Mount does; tweak adjusts
// its configuration (a shorter turn budget).
func (h *harness) openIVR(tweak ...func(*ivr.Config)) {
	h.t.Helper()
	a, tc := h.a, phoneOf(h.a.Config)
	c := ivr.Config{PublicURL: public, AccountSID: tc.AccountSID, AuthToken: tc.AuthToken, HelpDesk: tc.HelpDeskNumber,
		Languages: tc.Languages, Blocked: tc.BlockedCallers, Log: h.log, Numbers: tc.Numbers, Store: a.Store,
		CallerKey: a.CallerKey, LanguageMemory: tc.LanguageMemory, Audit: a.Audit}
	for _, f := range tweak {
		f(&c)
	}
	var err error
	if h.ivr, err = ivr.New(a.Engine, a.Messages, c); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(h.ivr.Close)
}

// captured is what the sweep greps.
func (h *harness) captured() bottest.Captured {
	out := append([]string(nil), h.twiml...)
	for _, c := range h.fake.Calls() {
		out = append(out, c.Twiml)
	}
	return bottest.Captured{Logs: h.logs.String(), Audit: h.audit.String(), Stored: bottest.Dump(h.t, h.a.Store), Outbound: out}
}

func (h *harness) clock() time.Time { h.mu.Lock(); defer h.mu.Unlock(); return h.now }

func (h *harness) advance(d time.Duration) { h.mu.Lock(); h.now = h.now.Add(d); h.mu.Unlock() }

// TwiML is the part of a TwiML document the tests look at.
type TwiML struct {
	Gather   *Gather   `xml:"Gather"`
	Say      []Say     `xml:"Say"`
	Dial     *Dial     `xml:"Dial"`
	Hangup   *struct{} `xml:"Hangup"`
	Redirect *struct {
		URL string `xml:",chardata"`
	} `xml:"Redirect"`
}

// Gather is <Gather>.
type Gather struct {
	Input         string `xml:"input,attr"`
	Action        string `xml:"action,attr"`
	NumDigits     string `xml:"numDigits,attr"`
	FinishOnKey   string `xml:"finishOnKey,attr"`
	Timeout       string `xml:"timeout,attr"`
	ActionOnEmpty string `xml:"actionOnEmptyResult,attr"`
	Say           []Say  `xml:"Say"`
}

// Say is <Say>.
type Say struct {
	Voice    string `xml:"voice,attr"`
	Language string `xml:"language,attr"`
	Loop     string `xml:"loop,attr"`
	Text     string `xml:",chardata"`
}

// Dial is <Dial>.
type Dial struct {
	Number string `xml:",chardata"`
}

// Says returns every <Say>, inside the gather or not, in document order
// (gather first: the IVR never mixes both).
func (d TwiML) Says() []Say {
	var out []Say
	if d.Gather != nil {
		out = append(out, d.Gather.Say...)
	}
	return append(out, d.Say...)
}

// Text joins what the document says.
func (d TwiML) Text() string {
	var parts []string
	for _, s := range d.Says() {
		parts = append(parts, s.Text)
	}
	return strings.Join(parts, " | ")
}

func parseTwiML(t testing.TB, body string) TwiML {
	t.Helper()
	var d TwiML
	if err := xml.Unmarshal([]byte(body), &d); err != nil {
		t.Fatalf("TwiML does not parse: %v\n%s", err, body)
	}
	return d
}

// call is one phone call against the IVR.
type call struct {
	h    *harness
	sid  string
	from string
	next string // path of the next action (from the last Gather)
	last TwiML
}

func (h *harness) call(sid string) *call { return &call{h: h, sid: sid, from: caller} }

// post sends a signed webhook and returns the response.
func (c *call) post(path string, form url.Values) *httptest.ResponseRecorder {
	c.h.t.Helper()
	w := httptest.NewRecorder()
	c.h.ivr.ServeHTTP(w, twiliotest.Request(twiliotest.AuthToken, public+path, path, form))
	return w
}

func (c *call) form(extra ...string) url.Values {
	f := url.Values{"AccountSid": {twiliotest.AccountSID}, "CallSid": {c.sid}, "From": {c.from},
		"To": {"+15555550100"}, "CallStatus": {"in-progress"}}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	return f
}

// do posts and parses TwiML, remembering the next gather action.
func (c *call) do(path string, form url.Values) TwiML {
	c.h.t.Helper()
	w := c.post(path, form)
	if w.Code != http.StatusOK {
		c.h.t.Fatalf("%s: status %d: %s", path, w.Code, w.Body.String())
	}
	body := w.Body.String()
	checkBargeIn(c.h.t, body)
	c.h.twiml = append(c.h.twiml, body)
	d := parseTwiML(c.h.t, body)
	c.last = d
	c.next = ""
	if d.Gather != nil {
		c.next = strings.TrimPrefix(d.Gather.Action, public)
	}
	return d
}

// start answers the call and picks a language (1 English, 2 Spanish). When
// the number's language is remembered and the menu skipped, nine on the
// main menu opens the language menu.
func (c *call) start(lang string) TwiML {
	c.h.t.Helper()
	d := c.do(ivr.PathIncoming, c.form())
	if d.Gather != nil && !strings.Contains(d.Gather.Action, ivr.PathLanguage) {
		d = c.press("9")
	}
	if d.Gather == nil || !strings.Contains(d.Gather.Action, ivr.PathLanguage) {
		c.h.t.Fatalf("no language gather: %s", d.Text())
	}
	return c.press(lang)
}

// press keys digits into the current gather.
func (c *call) press(digits string) TwiML {
	c.h.t.Helper()
	if c.next == "" {
		c.h.t.Fatalf("no gather to press %q into; last said: %s", digits, c.last.Text())
	}
	return c.do(c.next, c.form("Digits", digits))
}

// silence lets the gather time out.
func (c *call) silence() TwiML {
	c.h.t.Helper()
	return c.do(c.next, c.form("Digits", ""))
}

// hangUp sends the status callback of a finished call.
func (c *call) hangUp() int {
	w := c.post(ivr.PathStatus, c.form("CallStatus", "completed"))
	return w.Code
}

// waitSends waits for the fake to have n sends (deliveries are queued).
func (h *harness) waitSends(n int) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for h.fake.Sends() < n {
		if time.Now().After(deadline) {
			h.t.Fatalf("fake Twilio has %d sends, want %d", h.fake.Sends(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// lastSMSCode returns the code of the last SMS.
func (h *harness) lastSMSCode() string {
	h.t.Helper()
	m := h.fake.Messages()
	if len(m) == 0 {
		h.t.Fatal("no SMS")
	}
	return digitsRun(m[len(m)-1].Body)
}

// digitsRun returns the first run of 6 to 8 digits in s.
func digitsRun(s string) string {
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r < '0' || r > '9' }) {
		if len(f) >= 6 && len(f) <= 8 {
			return f
		}
	}
	return ""
}

// hearCode answers the last code call, presses 1 and returns the code it
// reads (spelled "4, 9, 3, ...").
func (h *harness) hearCode() string {
	h.t.Helper()
	calls := h.fake.Calls()
	if len(calls) == 0 {
		h.t.Fatal("no code call")
	}
	gate := parseTwiML(h.t, calls[len(calls)-1].Twiml)
	if gate.Gather == nil || gate.Gather.NumDigits != "1" {
		h.t.Fatalf("code call without a press-1 gate: %s", calls[len(calls)-1].Twiml)
	}
	path := strings.TrimPrefix(gate.Gather.Action, public)
	form := url.Values{"AccountSid": {twiliotest.AccountSID}, "CallSid": {"CA" + strconv.Itoa(len(calls)) + "code"}, "Digits": {"1"}}
	w := httptest.NewRecorder()
	h.code.ServeHTTP(w, twiliotest.Request(twiliotest.AuthToken, public+path, path, form))
	d := parseTwiML(h.t, w.Body.String())
	var b strings.Builder
	for _, r := range d.Text() {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
		if r == '.' && b.Len() > 0 {
			break // the code is said twice; keep the first
		}
	}
	return b.String()
}

// speechSeconds estimates how long the <Say>s of the documents take at 150
// words a minute.
func speechSeconds(t testing.TB, docs []string) (words int, seconds float64) {
	for _, body := range docs {
		for _, s := range parseTwiML(t, body).Says() {
			n := len(strings.Fields(s.Text))
			if loop, err := strconv.Atoi(s.Loop); err == nil && loop > 1 {
				n *= loop
			}
			words += n
		}
	}
	return words, float64(words) / 150 * 60
}
