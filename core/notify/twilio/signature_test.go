package twilio

import (
	"net/url"
	"testing"

	"github.com/twilio/twilio-go/client"

	"github.com/resetbot/resetbot/core/notify/twilio/twiliotest"
)

// TestSignerAgreesWithTwilioGo checks the webhook signature check against
// twilio-go's RequestValidator: the same signatures pass and fail, with the
// default port written out or left out by the signer.
func TestSignerAgreesWithTwilioGo(t *testing.T) {
	const token = "0123456789abcdef0123456789abcdef"
	form := url.Values{"CallSid": {"CA1"}, "Digits": {"1234"}, "AccountSid": {"AC1"}, "From": {"+15555550142"}}
	rv := client.NewRequestValidator(token)
	for _, public := range []string{"https://bot.example.org", "https://bot.example.org:443", "http://bot.example.org:8080"} {
		s := newSigner(public, token)
		for _, signedBase := range []string{public, otherPortForm(public), "https://other.example.org"} {
			for _, tc := range []struct {
				name      string
				signedURI string
				params    url.Values
			}{
				{"same", "/voice/gather?n=1", form},
				{"other query", "/voice/gather?n=2", form},
				{"other digits", "/voice/gather?n=1", url.Values{"CallSid": {"CA1"}, "Digits": {"9999"},
					"AccountSid": {"AC1"}, "From": {"+15555550142"}}},
			} {
				sig := twiliotest.Sign(token, signedBase+tc.signedURI, tc.params)
				want := rv.Validate(public+"/voice/gather?n=1", flat(form), sig)
				if got := s.valid("/voice/gather?n=1", form, sig); got != want {
					t.Errorf("public %s, signed over %s %s: valid = %v, twilio-go says %v", public, signedBase, tc.name, got, want)
				}
			}
		}
		if s.valid("/voice/gather?n=1", form, "not base64!") || s.valid("/voice/gather?n=1", form, "") {
			t.Errorf("%s: a malformed signature passed", public)
		}
	}
}

func flat(v url.Values) map[string]string {
	m := map[string]string{}
	for k, vs := range v {
		m[k] = vs[0]
	}
	return m
}
