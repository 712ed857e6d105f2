package twilio_test

import (
	"context"
	"strings"
	"testing"
	"time"

	potp "github.com/pquerna/otp/totp"

	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/secret"
)

// enrollTOTP enrolls an authenticator for login through the chat flow
// (verified by an SMS code from the fake) and returns its seed.
func (h *harness) enrollTOTP(login string) string {
	h.t.Helper()
	turn := func(in engine.Input) engine.Reply {
		return h.a.Engine.Handle(context.Background(), engine.Turn{Channel: "console", ChannelUser: "enroll-" + login, Locale: "en", Input: in})
	}
	text := func(s string) engine.Input { return engine.Input{Kind: engine.InputText, Value: secret.New(s)} }
	turn(engine.Input{Kind: engine.InputStart, Flow: "enroll"})
	turn(text(login))
	before := h.fake.Sends()
	turn(engine.Input{Kind: engine.InputChoice, Choice: "sms"})
	h.waitSends(before + 1)
	r := turn(text(h.lastSMSCode()))
	var seed string
	for _, o := range r.Outputs {
		if o.Attachment != nil {
			seed = o.Attachment.Text.Reveal()
		}
	}
	if seed == "" {
		h.t.Fatalf("no enrollment secret: %+v", r)
	}
	code, err := potp.GenerateCode(seed, h.clock())
	if err != nil {
		h.t.Fatal(err)
	}
	if r = turn(text(code)); r.State != "done" {
		h.t.Fatalf("enrollment ended in %q: %+v", r.State, r.Outputs)
	}
	h.waitSends(before + 2) // the code, then the enrollment notice by SMS
	h.advance(time.Minute)  // the next TOTP code is a new step
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
	if es := lang.Gather.Say[1]; es.Language != "es-US" || !strings.Contains(es.Text, "español") || !strings.HasPrefix(es.Voice, "Polly.") {
		t.Fatalf("spanish prompt: %+v", es)
	}
	menu := c.press("1")
	mustContain(t, menu, "password help line", "Press star", "To reset your password, press 1.")
	if menu.Gather.NumDigits != "1" || menu.Gather.Input != "dtmf" || menu.Gather.Say[0].Language != "en-US" {
		t.Fatalf("menu gather: %+v", menu.Gather)
	}
	id := c.press("1")
	mustContain(t, id, "employee number")
	if id.Gather.NumDigits != "" || id.Gather.FinishOnKey != "#" {
		t.Fatalf("identify gather: %+v", id.Gather)
	}
	factors := c.press("10041")
	mustContain(t, factors, "authenticator app, press 1")
	totp := c.press("1")
	if totp.Gather.NumDigits != "6" {
		t.Fatalf("totp gather: %+v", totp.Gather)
	}
	code, _ := potp.GenerateCode(seed, h.clock())
	another := c.press(code)
	mustContain(t, another, "one more check", "text message to your mobile phone, press 1")
	c.press("1") // SMS
	h.waitSends(sendsBefore + 1)
	smsCode := h.lastSMSCode()
	done := c.press(smsCode)
	mustContain(t, done, "temporary password", "Goodbye")
	if done.Hangup == nil || done.Gather != nil {
		t.Fatalf("the call should end: %+v", done)
	}
	h.waitSends(sendsBefore + 2)
	msgs := h.fake.Messages()
	pass := msgs[len(msgs)-1]
	if pass.To != "+15555550101" || !strings.Contains(pass.Body, "temporary password") {
		t.Fatalf("passphrase SMS: to %s", pass.To)
	}
	passphrase := strings.TrimSpace(strings.TrimSuffix(strings.SplitN(strings.SplitN(pass.Body, " is ", 2)[1], " . ", 2)[0], "."))
	h.assertNoSecrets(passphrase, code, smsCode, seed)

	words, secs := speechSeconds(t, h.twiml)
	for _, d := range h.twiml {
		t.Logf("%s", parseTwiML(t, d).Text())
	}
	t.Logf("speech in a full phone reset: %d words, %.1f s at 150 words per minute", words, secs)
	if secs > 75 {
		t.Errorf("a full reset call speaks for %.1f s; the target is 75 s or less", secs)
	}
	time.Sleep(50 * time.Millisecond)
	if n := h.fake.Sends() - sendsBefore; n != 2 {
		t.Errorf("the call sent %d messages, want 2 (code, passphrase)", n)
	}
}

// assertNoSecrets checks that no TwiML document and no log line carries any
// of the secrets.
func (h *harness) assertNoSecrets(secrets ...string) {
	h.t.Helper()
	for _, s := range secrets {
		if len(s) < 4 {
			h.t.Fatalf("secret %q too short to grep", s)
		}
		for _, doc := range h.twiml {
			if strings.Contains(doc, s) {
				h.t.Fatalf("a secret is in the TwiML: %s", doc)
			}
		}
	}
	h.logs.AssertNoSecrets(h.t, secrets...)
}
