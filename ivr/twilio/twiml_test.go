package twilio

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/twilio/twilio-go/twiml"
)

// TestEncodeTwiMLMatchesTwilioGo checks that the TwiML writer produces the
// document twiml.Voice produces (same elements, attributes and text, read as
// XML) for every verb the adapter answers with, special characters included.
func TestEncodeTwiMLMatchesTwilioGo(t *testing.T) {
	say := func(s string) *twiml.VoiceSay {
		return &twiml.VoiceSay{Message: s, Voice: "Polly.Joanna", Language: "en-US"}
	}
	cases := map[string][]twiml.Element{
		"gather": {&twiml.VoiceGather{Input: "dtmf", Action: "https://bot.example.org/voice/gather?l=en&n=2&s=0", Method: "POST",
			Timeout: "6", FinishOnKey: "#", ActionOnEmptyResult: "true", NumDigits: "1",
			InnerElements: []twiml.Element{say(`Press 1 for "reset" & <unlock>`), say("Reference a b 1 2")}}},
		"hangup":   {say("Goodbye."), &twiml.VoiceHangup{}},
		"transfer": {say("Transferring you."), &twiml.VoiceDial{Number: "+15555550199", Timeout: "30"}, &twiml.VoiceHangup{}},
		"hold": {say("One moment."), &twiml.VoicePause{Length: "1"},
			&twiml.VoiceRedirect{Method: "POST", Url: "https://bot.example.org/voice/gather?n=3&w=1"}},
		"say with loop": {&twiml.VoiceSay{Message: "again", Loop: "2", Language: "es-ES"}},
	}
	for name, verbs := range cases {
		t.Run(name, func(t *testing.T) {
			want, err := twiml.Voice(verbs)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			encodeTwiML(&b, verbs)
			if got, exp := canonicalXML(t, b.String()), canonicalXML(t, want); got != exp {
				t.Errorf("encodeTwiML:\n%s\ntwiml.Voice:\n%s", got, exp)
			}
		})
	}
}

// canonicalXML renders a document as one line per token, attributes sorted.
func canonicalXML(t *testing.T, doc string) string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(doc))
	var out strings.Builder
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		switch x := tok.(type) {
		case xml.StartElement:
			var as []string
			for _, a := range x.Attr {
				as = append(as, a.Name.Local+"="+a.Value)
			}
			slices.Sort(as)
			fmt.Fprintf(&out, "<%s %v>\n", x.Name.Local, as)
		case xml.EndElement:
			fmt.Fprintf(&out, "</%s>\n", x.Name.Local)
		case xml.CharData:
			if s := strings.TrimSpace(string(x)); s != "" {
				fmt.Fprintf(&out, "%q\n", s)
			}
		}
	}
	if out.Len() == 0 {
		t.Fatalf("not XML: %s", doc)
	}
	return out.String()
}
