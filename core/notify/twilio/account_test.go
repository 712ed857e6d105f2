package twilio_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/messages"
	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/core/notify/twilio"
	"github.com/resetbot/resetbot/core/notify/twilio/twiliotest"
	"github.com/resetbot/resetbot/core/plugin"
	"github.com/resetbot/resetbot/core/secret"
	storemem "github.com/resetbot/resetbot/core/store/memory"
)

func account() *twilio.Account {
	return &twilio.Account{AccountSID: twiliotest.AccountSID, AuthToken: secret.New(twiliotest.AuthToken),
		FromNumber: "+15555550100", AllowedPrefixes: []string{"+1"}}
}

// TestAccountValidate: the account checks its own settings, with the
// paths and messages channels.twilio always had, and never the token.
func TestAccountValidate(t *testing.T) {
	a := account()
	if probs := plugin.Check(a, "channels.twilio", true); len(probs) > 0 {
		t.Fatalf("a valid account: %v", probs)
	}
	a.AccountSID, a.SMSAPI, a.Edge, a.APIBaseURL, a.RequestTimeout = "XX", "pigeon", "atlantis", "http://proxy.example", -1
	got := plugin.Check(a, "channels.twilio", true).Err().Error()
	for _, want := range []string{"channels.twilio.account_sid: must start with AC", "channels.twilio.sms_api: must be messages or verify",
		`channels.twilio.edge: "atlantis" is not a Twilio edge`, "channels.twilio.api_base_url: must use https",
		"channels.twilio.api_base_url: excludes edge and region", "channels.twilio.request_timeout: must be between 0 (default) and 1m"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, twiliotest.AuthToken) {
		t.Error("a problem shows the auth token")
	}
	if m := (&twilio.Account{AccountSID: "AC1"}).Missing("channels.twilio"); m != "channels.twilio.auth_token and from_number" {
		t.Errorf("Missing = %q", m)
	}
	e := (twilio.Account{}).Effective()
	if e.SMSAPI != twilio.DefaultSMSAPI || e.RequestTimeout != twilio.DefaultRequestTimeout || e.MaxSendsPerHour != twilio.DefaultMaxSendsPerHour {
		t.Errorf("effective defaults %+v", e)
	}
}

// TestAccountOpenSenders: the account opens SMS and code calls; the code
// call's Sender carries its "press 1" route (authenticated: an unsigned
// POST is refused) when there is a public URL to call back, none without.
func TestAccountOpenSenders(t *testing.T) {
	cat, err := messages.Load()
	if err != nil {
		t.Fatal(err)
	}
	deps := notify.Deps{Store: storemem.New(), Messages: cat, PublicURL: public}
	if !account().Delivers(notify.ChannelVoice) || account().Delivers(notify.ChannelEmail) || (&twilio.Account{}).Delivers(notify.ChannelSMS) {
		t.Error("Delivers: SMS and calls, once configured")
	}
	opened, err := account().OpenSenders(context.Background(), deps)
	if err != nil {
		t.Fatal(err)
	}
	if opened[notify.ChannelSMS] == nil {
		t.Fatal("no SMS sender")
	}
	r, ok := opened[notify.ChannelVoice].(notify.Routed)
	if !ok {
		t.Fatal("the code-call sender has no route")
	}
	h := r.Routes()[http.MethodPost+" "+twilio.CodePath]
	if h == nil {
		t.Fatalf("routes %v", r.Routes())
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, twilio.CodePath, strings.NewReader("Digits=1")))
	if rec.Code == http.StatusOK {
		t.Error("an unsigned press-1 action was accepted")
	}
	deps.PublicURL = ""
	if opened, err = account().OpenSenders(context.Background(), deps); err != nil {
		t.Fatal(err)
	}
	if r := opened[notify.ChannelVoice].(notify.Routed); len(r.Routes()) != 0 {
		t.Error("a route without a public URL for Twilio to call")
	}
	deps.Store = nil
	if _, err := account().OpenSenders(context.Background(), deps); err == nil {
		t.Error("opened without a store")
	}
	if _, err := (&twilio.Account{AccountSID: "XX"}).OpenSenders(context.Background(), deps); err == nil ||
		!strings.Contains(err.Error(), "channels.twilio.account_sid") {
		t.Errorf("an invalid account opened: %v", err)
	}
}
