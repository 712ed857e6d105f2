package twilio_test

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/notify/twilio/twiliotest"
)

// FuzzTwilioForm posts signed webhooks with arbitrary digits, call status
// and action query to every route: the handler must never panic, and every
// 200 answer must be well-formed TwiML.
func FuzzTwilioForm(f *testing.F) {
	f.Add("/voice/gather", "l=en&n=1&s=0&w=0", "10041", "in-progress")
	f.Add("/voice/gather", "l=xx&n=999999&s=-1&w=0", "*#*#", "completed")
	f.Add("/voice/language", "", "9", "ringing")
	f.Add("/voice/status", "", "", "no-answer")
	f.Add("/voice/incoming", "", "\x00\xff", "")
	f.Add("/voice/gather", "l=es&n=3&s=1&w=2", strings.Repeat("1", 200), "busy")
	h := newHarness(f)
	f.Fuzz(func(t *testing.T, path, query, digits, status string) {
		switch path {
		case "/voice/gather", "/voice/language", "/voice/status", "/voice/incoming":
		default:
			return
		}
		if strings.ContainsAny(query, "#% ") || strings.ContainsFunc(query, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
			return // not a request Twilio could send
		}
		target := path
		if query != "" {
			target += "?" + query
		}
		form := url.Values{"AccountSid": {twiliotest.AccountSID}, "CallSid": {"CAfuzz"}, "From": {caller},
			"Digits": {digits}, "CallStatus": {status}}
		w := httptest.NewRecorder()
		h.ivr.ServeHTTP(w, twiliotest.Request(twiliotest.AuthToken, public+target, target, form))
		if w.Code == 200 {
			parseTwiML(t, w.Body.String())
		}
	})
}
