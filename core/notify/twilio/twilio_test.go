package twilio_test

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/logging/loggingtest"
	"github.com/resetbot/resetbot/core/messages"
	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/core/notify/twilio"
	"github.com/resetbot/resetbot/core/notify/twilio/twiliotest"
	"github.com/resetbot/resetbot/core/secret"
	storemem "github.com/resetbot/resetbot/core/store/memory"
)

const public = "https://bot.example.com"

type fixture struct {
	fake *twiliotest.Server
	c    *twilio.Client
	code *twilio.CodeHandler
	logs interface{ String() string }
}

func newFixture(t *testing.T, mutate ...func(*twilio.Config)) *fixture {
	t.Helper()
	cat, err := messages.Load()
	if err != nil {
		t.Fatal(err)
	}
	log, buf := loggingtest.Capture(t)
	fake := twiliotest.New(t)
	st := storemem.New()
	cfg := twilio.Config{AccountSID: twiliotest.AccountSID, AuthToken: secret.New(twiliotest.AuthToken),
		From: "+15555550100", AllowedPrefixes: []string{"+1"}, PublicURL: public, Store: st, Messages: cat,
		Transport: fake.Transport(), Timeout: 5 * time.Second, Log: log}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := twilio.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	auth := twilio.NewWebhookAuth(public, twiliotest.AccountSID, cfg.AuthToken, log)
	return &fixture{fake: fake, c: c, logs: buf,
		code: &twilio.CodeHandler{Auth: auth, Store: st, Key: twilio.CodeKey(cfg.AuthToken), Messages: cat, Log: log}}
}

func codeMsg(to string) notify.Message {
	return notify.Message{Kind: notify.KindCode, To: to, Locale: "en", Summary: "otp.sms",
		Body:  secret.New("Your resetbot verification code is 493817. It expires in 10 minutes."),
		Voice: secret.New("Your verification code is 4, 9, 3, 8, 1, 7. Again, your code is 4, 9, 3, 8, 1, 7.")}
}

func TestSMS(t *testing.T) {
	cases := []struct {
		name    string
		api     string
		to      string
		wantErr error
		msgs    int
		verifs  int
	}{
		{"messages api", twilio.APIMessages, "+15555550101", nil, 1, 0},
		{"verify api", twilio.APIVerify, "+15555550101", nil, 0, 1},
		{"disallowed country", twilio.APIMessages, "+882123456789", twilio.ErrCountryNotAllowed, 0, 0},
		{"not e164", twilio.APIMessages, "5555550101", twilio.ErrCountryNotAllowed, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(c *twilio.Config) { c.API = tc.api; c.VerifyServiceSID = twiliotest.VerifySID })
			err := f.c.SMS().Send(context.Background(), codeMsg(tc.to))
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if got := len(f.fake.Messages()); got != tc.msgs {
				t.Fatalf("messages = %d, want %d", got, tc.msgs)
			}
			if got := f.fake.Verifications(); len(got) != tc.verifs {
				t.Fatalf("verifications = %d, want %d", len(got), tc.verifs)
			} else if tc.verifs == 1 && (got[0].CustomCode != "493817" || got[0].Channel != "sms") {
				t.Fatalf("verification = %+v", got[0])
			}
			if strings.Contains(f.logs.String(), "493817") {
				t.Fatal("code in logs")
			}
		})
	}
}

func TestPassphraseNeverViaVerify(t *testing.T) {
	f := newFixture(t, func(c *twilio.Config) { c.API = twilio.APIVerify; c.VerifyServiceSID = twiliotest.VerifySID })
	m := notify.Message{Kind: notify.KindPassphrase, To: "+15555550101", Body: secret.New("Your temporary password is a b c d")}
	if err := f.c.SMS().Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if len(f.fake.Messages()) != 1 || len(f.fake.Verifications()) != 0 {
		t.Fatal("passphrase must go through the messaging API")
	}
}

func TestBudget(t *testing.T) {
	f := newFixture(t, func(c *twilio.Config) { c.MaxPerHour = 2 })
	var errs []error
	for range 3 {
		errs = append(errs, f.c.SMS().Send(context.Background(), codeMsg("+15555550101")))
	}
	if errs[0] != nil || errs[1] != nil || !errors.Is(errs[2], twilio.ErrBudget) {
		t.Fatalf("errs = %v", errs)
	}
	if n := f.fake.Sends(); n != 2 {
		t.Fatalf("sent %d, want 2", n)
	}
}

func TestProviderErrorHidesDetails(t *testing.T) {
	f := newFixture(t)
	f.fake.Fail(http.StatusInternalServerError)
	err := f.c.SMS().Send(context.Background(), codeMsg("+15555550101"))
	if !errors.Is(err, twilio.ErrProvider) {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "5555550101") || strings.Contains(err.Error(), "493817") {
		t.Fatalf("error leaks: %v", err)
	}
}

// twimlDoc is enough of TwiML to check the code call.
type twimlDoc struct {
	Gather []struct {
		NumDigits string   `xml:"numDigits,attr"`
		Action    string   `xml:"action,attr"`
		Say       []string `xml:"Say"`
	} `xml:"Gather"`
	Say    []string  `xml:"Say"`
	Hangup *struct{} `xml:"Hangup"`
}

func parse(t *testing.T, s string) twimlDoc {
	t.Helper()
	var d twimlDoc
	if err := xml.Unmarshal([]byte(s), &d); err != nil {
		t.Fatalf("TwiML: %v\n%s", err, s)
	}
	return d
}

func TestVoiceCodeCall(t *testing.T) {
	f := newFixture(t)
	if err := f.c.Voice().Send(context.Background(), codeMsg("+15555550101")); err != nil {
		t.Fatal(err)
	}
	calls := f.fake.Calls()
	if len(calls) != 1 {
		t.Fatalf("calls = %d", len(calls))
	}
	if strings.Contains(calls[0].Twiml, "4, 9, 3") || strings.Contains(calls[0].Twiml, "493817") {
		t.Fatal("the code is in the call's first TwiML: a voicemail would record it")
	}
	gate := parse(t, calls[0].Twiml)
	if len(gate.Gather) != 1 || gate.Gather[0].NumDigits != "1" || gate.Hangup == nil {
		t.Fatalf("gate = %+v", gate)
	}
	action := gate.Gather[0].Action
	if !strings.HasPrefix(action, public+twilio.CodePath+"?c=") {
		t.Fatalf("action = %q", action)
	}
	path := strings.TrimPrefix(action, public)
	press := func(digits, signedFor string) *httptest.ResponseRecorder {
		form := url.Values{"AccountSid": {twiliotest.AccountSID}, "CallSid": {"CA1"}, "Digits": {digits}}
		w := httptest.NewRecorder()
		f.code.ServeHTTP(w, twiliotest.Request(twiliotest.AuthToken, signedFor, path, form))
		return w
	}
	if w := press("1", "http://bot.example.com"+path); w.Code != http.StatusForbidden {
		t.Fatalf("scheme mismatch: %d", w.Code)
	}
	if d := parse(t, press("2", action).Body.String()); strings.Contains(strings.Join(d.Say, " "), "4, 9") {
		t.Fatal("code spoken without pressing 1")
	}
	d := parse(t, press("1", action).Body.String())
	if len(d.Say) != 1 || strings.Count(d.Say[0], "4, 9, 3, 8, 1, 7") != 2 || d.Hangup == nil {
		t.Fatalf("code TwiML = %+v", d)
	}
	if again := parse(t, press("1", action).Body.String()); strings.Contains(strings.Join(again.Say, " "), "4, 9") {
		t.Fatal("a replayed key press heard the code again")
	}
	if strings.Contains(f.logs.String(), "4, 9, 3") {
		t.Fatal("code in logs")
	}
}

func TestCountryCode(t *testing.T) {
	for in, want := range map[string]string{"+15555550100": "+1", "+447700900123": "+44",
		"+34600000000": "+34", "+353861234567": "+353", "+79161234567": "+7", "x": ""} {
		if got := twilio.CountryCode(in); got != want {
			t.Errorf("CountryCode(%q) = %q, want %q", in, got, want)
		}
	}
}

// hostSpy records the host each request was addressed to, then passes it on.
type hostSpy struct {
	hosts []string
	next  http.RoundTripper
}

func (h *hostSpy) RoundTrip(r *http.Request) (*http.Response, error) {
	h.hosts = append(h.hosts, r.URL.Host)
	return h.next.RoundTrip(r)
}

// TestEdgeRegionAndBaseURL: channels.twilio.edge/region choose the REST host
// and api_base_url sends every call to the proxy, with no test transport.
func TestEdgeRegionAndBaseURL(t *testing.T) {
	t.Setenv("TWILIO_EDGE", "tokyo") // ignored: only the configuration decides
	t.Setenv("TWILIO_REGION", "jp1")
	cases := []struct {
		name, edge, region, want string
	}{
		{"default", "", "", "api.twilio.com"},
		{"edge and region", "dublin", "ie1", "api.dublin.ie1.twilio.com"},
		{"region only", "", "au1", "api.au1.twilio.com"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var spy *hostSpy
			f := newFixture(t, func(c *twilio.Config) {
				spy = &hostSpy{next: c.Transport}
				c.Transport, c.Edge, c.Region = spy, tc.edge, tc.region
			})
			if err := f.c.SMS().Send(context.Background(), codeMsg("+15555550101")); err != nil {
				t.Fatal(err)
			}
			if len(spy.hosts) != 1 || spy.hosts[0] != tc.want {
				t.Fatalf("called %v, want [%s]", spy.hosts, tc.want)
			}
		})
	}
	t.Run("base url", func(t *testing.T) {
		var fake *twiliotest.Server
		f := newFixture(t, func(c *twilio.Config) {
			fake = twiliotest.New(t)
			c.Transport, c.BaseURL = nil, fake.URL
		})
		if err := f.c.SMS().Send(context.Background(), codeMsg("+15555550101")); err != nil {
			t.Fatal(err)
		}
		if len(fake.Messages()) != 1 || len(f.fake.Messages()) != 0 {
			t.Fatalf("proxy got %d messages, default fake %d", len(fake.Messages()), len(f.fake.Messages()))
		}
	})
}
