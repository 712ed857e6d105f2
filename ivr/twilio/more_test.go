package twilio_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/notify/twilio/twiliotest"
	ivr "github.com/resetbot/resetbot/ivr/twilio"
)

// TestPhoneUnlock unlocks the locked demo account with a code read by a
// voice call (answered, 1 pressed, digits heard) on the fake Twilio.
func TestPhoneUnlock(t *testing.T) {
	h := newHarness(t)
	c := h.call("CA200")
	c.start("1")
	c.press("2") // unlock
	c.press("10063")
	mustContain(t, c.last, "Phone call, press 3")
	c.press("3")
	h.waitSends(1)
	if len(h.fake.Calls()) != 1 {
		t.Fatalf("code calls: %d", len(h.fake.Calls()))
	}
	code := h.hearCode()
	if len(code) != 6 {
		t.Fatalf("heard code %q", code)
	}
	done := c.press(code)
	mustContain(t, done, "Account unlocked")
	// One key rates it (2: not easy), then the call ends.
	if end := c.press("2"); end.Hangup == nil || !strings.Contains(end.Text(), "Thank you") {
		t.Fatalf("call not ended after the rating: %s", end.Text())
	}
	h.assertNoSecrets(code)
}

// TestTransferToAgent: zero at the menu and zero mid-flow both end in a
// <Dial> to the help desk.
func TestTransferToAgent(t *testing.T) {
	h := newHarness(t)
	t.Run("from the menu", func(t *testing.T) {
		c := h.call("CA300")
		c.start("1")
		d := c.press("0")
		if d.Dial == nil || d.Dial.Number != helpDesk || d.Hangup == nil {
			t.Fatalf("no transfer: %+v", d)
		}
	})
	t.Run("mid flow", func(t *testing.T) {
		c := h.call("CA301")
		c.start("2") // Spanish
		c.press("1")
		c.press("10041")
		d := c.press("0")
		if d.Dial == nil || d.Dial.Number != helpDesk {
			t.Fatalf("no transfer: %+v", d)
		}
		if d.Says()[0].Language != "es-US" {
			t.Fatalf("language lost: %+v", d.Says())
		}
		mustContain(t, d, "mesa de ayuda")
	})
}

func TestSilence(t *testing.T) {
	h := newHarness(t)
	t.Run("menu", func(t *testing.T) {
		c := h.call("CA400")
		c.start("1")
		mustContain(t, c.silence(), "did not hear anything")
		d := c.silence()
		if d.Hangup == nil || d.Gather != nil {
			t.Fatalf("second silence should end the call: %+v", d)
		}
	})
	t.Run("in a flow", func(t *testing.T) {
		c := h.call("CA401")
		c.start("1")
		c.press("1")
		re := c.silence()
		mustContain(t, re, "did not hear anything", "mployee number")
		d := c.silence()
		if d.Hangup == nil {
			t.Fatalf("second silence should end the call: %+v", d)
		}
		mustContain(t, d, "Goodbye")
	})
	t.Run("star repeats", func(t *testing.T) {
		c := h.call("CA402")
		c.start("1")
		c.press("1")
		mustContain(t, c.press("*"), "mployee number")
	})
}

func TestWebhookRejections(t *testing.T) {
	h := newHarness(t)
	form := url.Values{"AccountSid": {twiliotest.AccountSID}, "CallSid": {"CA500"}, "From": {caller}}
	path := "/voice/incoming"
	cases := []struct {
		name string
		req  func() *http.Request
		want int
	}{
		{"missing signature", func() *http.Request {
			r := twiliotest.Request(twiliotest.AuthToken, public+path, path, form)
			r.Header.Del("X-Twilio-Signature")
			return r
		}, http.StatusForbidden},
		{"wrong token", func() *http.Request {
			return twiliotest.Request("othertoken", public+path, path, form)
		}, http.StatusForbidden},
		{"signed for http", func() *http.Request {
			return twiliotest.Request(twiliotest.AuthToken, "http://bot.example.com"+path, path, form)
		}, http.StatusForbidden},
		{"signed for the Host header", func() *http.Request {
			r := twiliotest.Request(twiliotest.AuthToken, "https://evil.example"+path, path, form)
			r.Host = "evil.example"
			return r
		}, http.StatusForbidden},
		{"tampered body", func() *http.Request {
			r := twiliotest.Request(twiliotest.AuthToken, public+path, path, form)
			f2 := url.Values{"AccountSid": {twiliotest.AccountSID}, "CallSid": {"CA501"}, "From": {caller}}
			r2 := httptest.NewRequest(http.MethodPost, path, strings.NewReader(f2.Encode()))
			r2.Header = r.Header
			return r2
		}, http.StatusForbidden},
		{"foreign account", func() *http.Request {
			f := url.Values{"AccountSid": {"AC999"}, "CallSid": {"CA500"}}
			return twiliotest.Request(twiliotest.AuthToken, public+path, path, f)
		}, http.StatusForbidden},
		{"repeated key", func() *http.Request {
			// twilio-go checks only the first value of a repeated key, so a
			// captured body with a second value appended still validates.
			signed := url.Values{"AccountSid": {twiliotest.AccountSID}, "CallSid": {"CA500"}, "Digits": {"1"}}
			r := twiliotest.Request(twiliotest.AuthToken, public+path, path, signed)
			r2 := httptest.NewRequest(http.MethodPost, path, strings.NewReader(signed.Encode()+"&Digits=2"))
			r2.Header = r.Header
			return r2
		}, http.StatusBadRequest},
		{"bad call sid", func() *http.Request {
			f := url.Values{"AccountSid": {twiliotest.AccountSID}, "CallSid": {"x:y"}}
			return twiliotest.Request(twiliotest.AuthToken, public+path, path, f)
		}, http.StatusBadRequest},
		{"bad sequence", func() *http.Request {
			p := "/voice/gather?l=en&n=abc&s=0&w=0"
			return twiliotest.Request(twiliotest.AuthToken, public+p, p, form)
		}, http.StatusBadRequest},
		{"overlong body", func() *http.Request {
			f := url.Values{"AccountSid": {twiliotest.AccountSID}, "CallSid": {"CA500"}, "Junk": {strings.Repeat("x", 70<<10)}}
			return twiliotest.Request(twiliotest.AuthToken, public+path, path, f)
		}, http.StatusRequestEntityTooLarge},
		{"GET", func() *http.Request { return httptest.NewRequest(http.MethodGet, path, nil) }, http.StatusMethodNotAllowed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ivr.ServeHTTP(w, tc.req())
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.want, w.Body.String())
			}
		})
	}
	if _, err := h.a.Store.Get(context.Background(), engine.SessionKey("voice", "CA500")); err == nil {
		t.Fatal("a refused webhook reached the engine")
	}
}

func TestBadInput(t *testing.T) {
	for _, keys := range []string{"12a4", strings.Repeat("9", 40), "1#2", "%00"} {
		t.Run(keys, func(t *testing.T) {
			h := newHarness(t)
			c := h.call("CA600")
			c.start("1")
			c.press("1")
			d := c.press(keys)
			mustContain(t, d, "did not understand", "mployee number")
			if d.Gather == nil {
				t.Fatal("the call should go on")
			}
		})
	}
}

func TestHangUpMidFlow(t *testing.T) {
	h := newHarness(t)
	c := h.call("CA800")
	c.start("1")
	c.press("1")
	c.press("10041")
	next := c.next
	if _, err := h.a.Store.Get(context.Background(), engine.SessionKey("voice", "CA800")); err != nil {
		t.Fatalf("no session before hang-up: %v", err)
	}
	if code := c.hangUp(); code != http.StatusNoContent {
		t.Fatalf("status callback: %d", code)
	}
	if rec, err := h.a.Store.Get(context.Background(), engine.SessionKey("voice", "CA800")); err != nil || strings.Contains(string(rec.Value), "CA800") {
		t.Fatalf("session survives the hang-up: %q %v", rec.Value, err)
	}
	c.next = next
	if d := c.press("2"); d.Hangup == nil || d.Gather != nil || len(d.Says()) != 0 {
		t.Fatalf("a gather after hang-up should only hang up: %+v", d)
	}
	if h.fake.Sends() != 0 {
		t.Fatal("something was sent after the hang-up")
	}
}

func TestBlockedCaller(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { phoneOf(c).BlockedCallers = []string{"+1555555"} })
	c := h.call("CA900")
	d := c.do("/voice/incoming", c.form())
	if d.Hangup == nil || d.Gather != nil {
		t.Fatalf("blocked caller not hung up: %+v", d)
	}
	mustContain(t, d, "cannot take your call")
}

func TestBudgetExhausted(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.Regulation.Send.PerDestinationPerHour = 1 })
	for i, sid := range []string{"CA1000", "CA1001"} {
		c := h.call(sid)
		c.start("1")
		c.press("1")
		c.press("10041")
		d := c.press("2")
		if i == 1 {
			mustContain(t, d, "cannot send more codes")
		}
	}
	time.Sleep(100 * time.Millisecond)
	if n := h.fake.Sends(); n != 1 {
		t.Fatalf("sent %d, want 1", n)
	}
}

// TestDisallowedCountry: the mobile of record is outside the allow-list, so
// nothing is sent, and the caller hears the same as anyone else.
func TestDisallowedCountry(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { phoneOf(c).AllowedPrefixes = []string{"+44"} })
	c := h.call("CA1100")
	c.start("1")
	c.press("1")
	c.press("10041")
	mustContain(t, c.press("2"), "Code texted to the mobile on file, if any")
	time.Sleep(100 * time.Millisecond)
	if n := h.fake.Sends(); n != 0 {
		t.Fatalf("sent %d to a disallowed country", n)
	}
}

// TestUnknownNumberSameReplies: an unknown employee number hears exactly
// what a known one hears.
func TestUnknownNumberSameReplies(t *testing.T) {
	h := newHarness(t)
	run := func(sid, number string) string {
		c := h.call(sid)
		c.start("1")
		c.press("1")
		var out []string
		out = append(out, c.press(number).Text())
		out = append(out, c.press("2").Text())
		out = append(out, c.press("123456").Text())
		return strings.Join(out, "\n")
	}
	known, unknown := run("CA1200", "10041"), run("CA1201", "99999")
	if known != unknown {
		t.Fatalf("known and unknown differ:\n%s\n---\n%s", known, unknown)
	}
}

func TestUnlockOnlyPolicy(t *testing.T) {
	h := newHarness(t, func(c *config.Config) {
		phoneOf(c).VoiceReset = ivr.VoiceUnlockOnly
		c.Factors.Require.Reset = map[string]int{"default": 1}
		c.Factors.Policy.PhoneAlone = true
	})
	c := h.call("CA1300")
	c.start("1")
	c.press("1")
	c.press("10041")
	c.press("2")
	h.waitSends(1)
	d := c.press(h.lastSMSCode())
	mustContain(t, d, "cannot be reset by phone")
	time.Sleep(100 * time.Millisecond)
	if n := h.fake.Sends(); n != 1 {
		t.Fatalf("sent %d, want only the code", n)
	}
}
