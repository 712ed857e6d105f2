package twilio_test

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/config"
)

// checkBargeIn fails t when a TwiML document says something a key cannot
// interrupt: every <Say> must be inside a <Gather>, except in a document
// that ends the call (a goodbye before <Hangup>, a transfer before <Dial>),
// where nothing is asked any more. Every document a test call receives is
// checked (call.do), so every path the tests walk is covered: menus,
// repeats, errors, silences, holds, transfers, goodbyes.
func checkBargeIn(t testing.TB, doc string) {
	t.Helper()
	if p := bargeInProblem(doc); p != "" {
		t.Errorf("%s:\n%s", p, doc)
	}
}

// bargeInProblem says what in doc cannot be interrupted, or "".
func bargeInProblem(doc string) string {
	dec := xml.NewDecoder(strings.NewReader(doc))
	var inGather, outside int
	var ends, asks bool
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "TwiML does not parse: " + err.Error()
		}
		switch el := tok.(type) {
		case xml.StartElement:
			switch el.Name.Local {
			case "Gather":
				inGather++
				asks = true
			case "Redirect":
				asks = true
			case "Hangup", "Dial":
				ends = true
			case "Say", "Play":
				if inGather == 0 {
					outside++
				}
			}
		case xml.EndElement:
			if el.Name.Local == "Gather" {
				inGather--
			}
		}
	}
	if outside > 0 && (asks || !ends) {
		return "TwiML says something outside a <Gather> (no barge-in) in a document that goes on"
	}
	return ""
}

// TestBargeInEverywhere walks the paths that are not part of a full call
// (the full calls run in the other tests, also checked by call.do): the
// language menu, nine for another language, star to repeat, a wrong key, a
// garbled entry, silence, zero for a person, and a caller whose number's
// language is set by the Twilio number called.
func TestBargeInEverywhere(t *testing.T) {
	h := newHarness(t, func(c *config.Config) {
		phoneOf(c).Numbers = map[string]string{"+34910000000": "es"}
	})
	c := h.call("CA900")
	c.start("1")
	c.press("*")
	c.press("7")
	c.press("9")
	c.press("2")
	c.press("1")
	c.press("12a4")
	c.silence()
	c.press("0")

	es := h.call("CA901")
	es.from = "+15555550177"
	d := es.do("/voice/incoming", es.form("To", "+34910000000"))
	if d.Gather == nil || d.Gather.Say[0].Language != "es-US" {
		t.Fatalf("the Spanish number did not start in Spanish: %+v", d)
	}
	es.silence()
	es.silence()
	// A document with a <Say> outside a gather that goes on is refused.
	bad := `<?xml version="1.0" encoding="UTF-8"?><Response><Say>One moment.</Say><Redirect>x</Redirect></Response>`
	if bargeInProblem(bad) == "" {
		t.Fatal("checkBargeIn accepted a Say outside a gather before a redirect")
	}
}
