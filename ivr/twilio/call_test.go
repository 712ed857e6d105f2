package twilio_test

import (
	"strings"
	"testing"
	"time"

	potp "github.com/pquerna/otp/totp"

	"github.com/resetbot/resetbot/internal/bottest"
)

// enrollTOTP binds an authenticator for login directly through the app's
// method registry (the chat enrollment flow, which needs two factors of
// record, is tested in flows) and returns its seed.
func (h *harness) enrollTOTP(login string) string {
	h.t.Helper()
	seed := bottest.EnrollTOTP(h.t, h.a.Directory, h.a.Methods, login, h.clock())
	h.advance(time.Minute) // the next TOTP code is a new step
	return seed
}

func mustContain(t *testing.T, d TwiML, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(d.Text(), p) {
			t.Fatalf("TwiML says %q; want %q in it", d.Text(), p)
		}
	}
}

// TestPhoneReset drives a whole reset call: language, menu, employee number,
// authenticator code, SMS code from the fake Twilio, generated passphrase by
// SMS. It also measures the call's speech time.
func TestPhoneReset(t *testing.T) {
	h := newHarness(t)
	seed := h.enrollTOTP("amartin")
	sendsBefore := h.fake.Sends()
	c := h.call("CA100")

	lang := c.do("/voice/incoming", c.form())
	if lang.Gather == nil || len(lang.Gather.Say) != 2 || lang.Gather.NumDigits != "1" {
		t.Fatalf("language menu: %+v", lang)
	}
	if es := lang.Gather.Say[1]; es.Language != "es-US" || !strings.Contains(es.Text, "Español") || !strings.HasPrefix(es.Voice, "Polly.") {
		t.Fatalf("spanish prompt: %+v", es)
	}
	menu := c.press("1")
	mustContain(t, menu, "help line", "Star repeats", "Reset password, press 1.")
	if menu.Gather.NumDigits != "1" || menu.Gather.Input != "dtmf" || menu.Gather.Say[0].Language != "en-US" {
		t.Fatalf("menu gather: %+v", menu.Gather)
	}
	id := c.press("1")
	mustContain(t, id, "mployee number")
	if id.Gather.NumDigits != "" || id.Gather.FinishOnKey != "#" {
		t.Fatalf("identify gather: %+v", id.Gather)
	}
	// The authenticator is asked for at once, the other methods beside it.
	totp := c.press("10041")
	mustContain(t, totp, "authenticator code", "Text message, press 2")
	if totp.Gather.NumDigits != "6" {
		t.Fatalf("totp gather: %+v", totp.Gather)
	}
	code, _ := potp.GenerateCode(seed, h.clock())
	// The second factor's code is sent as soon as the first passes.
	another := c.press(code)
	mustContain(t, another, "Correct", "Code sent")
	h.waitSends(sendsBefore + 1)
	smsCode := h.lastSMSCode()
	done := c.press(smsCode)
	doneAt := len(h.twiml) - 1
	mustContain(t, done, "temporary password", "Goodbye")
	// The optional rating question follows the goodbye in one gather;
	// silence skips it and ends the call.
	if done.Hangup != nil || done.Gather == nil || done.Gather.NumDigits != "1" || !rated(t, h.twiml[doneAt]) {
		t.Fatalf("want the goodbye, then a one-key rating question: %+v", done)
	}
	if end := c.silence(); end.Hangup == nil || end.Gather != nil || len(end.Say) != 0 {
		t.Fatalf("silence at the rating should end the call: %+v", end)
	}
	h.waitSends(sendsBefore + 3) // the code, the passphrase, the notice to the mobile of record
	msgs := h.fake.Messages()
	pass, notice := msgs[len(msgs)-2], msgs[len(msgs)-1]
	if strings.Contains(notice.Body, "temporary password") {
		// The send queue has several workers: the two may arrive in
		// either order.
		pass, notice = notice, pass
	}
	if pass.To != "+15555550101" || !strings.Contains(pass.Body, "temporary password") {
		t.Fatalf("passphrase SMS: to %s", pass.To)
	}
	if notice.To != "+15555550101" || !strings.Contains(notice.Body, "password was changed") {
		t.Fatalf("no reset notice by SMS: to %s", notice.To)
	}
	passphrase := strings.Fields(strings.SplitN(pass.Body, " is:", 2)[1])[0]
	h.assertNoSecrets(passphrase, code, smsCode, seed)

	// Timed to the goodbye: the optional rating question after it is
	// skipped by hanging up.
	words, _ := speechSeconds(t, h.twiml[:doneAt+1])
	words -= ratingWords(t, h.twiml[:doneAt+1])
	secs := float64(words) / 150 * 60
	for _, d := range h.twiml {
		t.Logf("%s", parseTwiML(t, d).Text())
	}
	t.Logf("speech in a full phone reset: %d words, %.1f s at 150 words per minute", words, secs)
	if secs > resetSpeechTarget {
		t.Errorf("a full reset call speaks for %.1f s; the target is %.0f s or less", secs, resetSpeechTarget)
	}
	time.Sleep(50 * time.Millisecond)
	if n := h.fake.Sends() - sendsBefore; n != 3 {
		t.Errorf("the call sent %d messages, want 3 (code, passphrase, notice)", n)
	}
}

// assertNoSecrets runs the suite's one secret sweep (bottest.Sweep) over
// the logs, audit, store, every TwiML document answered and every call's
// TwiML sent to Twilio.
func (h *harness) assertNoSecrets(secrets ...string) {
	h.t.Helper()
	bottest.Sweep(h.t, h.captured(), secrets...)
}
