package twilio_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/messages"
)

// poundWord is how each catalog language names the pound key on the phone
// (as in twilio.identify).
var poundWord = map[string]string{"en": "pound", "de": "Raute", "es": "numeral", "fr": "dièse", "pt-br": "jogo da velha"}

// TestSideChoiceActsOnPound checks, in every language, the side choices said
// beside a code ("text message, press 2 then pound"): a code's gather waits
// for six digits, so a lone side-choice key is sent only by pound or the
// gather's timeout. Every side choice names the pound key; the gather ends
// on pound and keeps the full timeout between keys, so a caller typing the
// code slowly is never cut off; the menu's one-key choices do not mention
// pound. Pressing the side choice's key (Twilio posts the digits before the
// pound) switches method at once.
func TestSideChoiceActsOnPound(t *testing.T) {
	cat, err := messages.Load()
	if err != nil {
		t.Fatal(err)
	}
	langs := cat.Languages()
	for i, lang := range langs {
		t.Run(lang, func(t *testing.T) {
			pound := poundWord[lang]
			if pound == "" {
				t.Fatalf("no pound word for %s: add it to poundWord", lang)
			}
			h := newHarness(t, func(c *config.Config) { phoneOf(c).Languages = langs })
			h.enrollTOTP("amartin")
			c := h.call("CA5" + strconv.Itoa(i))
			menu := c.start(strconv.Itoa(i + 1))
			for _, s := range menu.Gather.Say {
				if strings.Contains(s.Text, pound) {
					t.Errorf("a one-key menu names the pound key: %q", s.Text)
				}
			}
			c.press("1")
			totp := c.press("10041")
			checkSideChoices(t, totp, menu.Gather.Timeout, pound, 2)
			// Twilio posts the keys before the pound: "2" alone.
			sms := c.press("2")
			if sms.Gather == nil || sms.Gather.NumDigits != "6" || len(sms.Gather.Say) != 3 {
				t.Fatalf("2 then pound did not switch to a text message code: %s", sms.Text())
			}
			checkSideChoices(t, sms, menu.Gather.Timeout, pound, 2)
		})
	}
}

// checkSideChoices checks a code prompt followed by n side choices: a
// six-digit gather ending on pound, with the timeout of the menus, whose
// side choices each name the pound key.
func checkSideChoices(t *testing.T, d TwiML, timeout, pound string, n int) {
	t.Helper()
	g := d.Gather
	if g == nil || g.NumDigits != "6" || g.FinishOnKey != "#" || g.Timeout != timeout {
		t.Fatalf("code gather: %+v, want six digits, finish on #, timeout %s", g, timeout)
	}
	if len(g.Say) != n+1 {
		t.Fatalf("want a code prompt and %d side choices: %s", n, d.Text())
	}
	if strings.Contains(g.Say[0].Text, pound) {
		t.Errorf("the code prompt itself names pound: %q", g.Say[0].Text)
	}
	for _, s := range g.Say[1:] {
		if !strings.Contains(s.Text, pound) {
			t.Errorf("side choice %q does not name the pound key (%s)", s.Text, pound)
		}
	}
}
