package twilio_test

import (
	"encoding/xml"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	potp "github.com/pquerna/otp/totp"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/messages"
)

var update = flag.Bool("update", false, "rewrite golden TwiML transcripts")

// canonical renders a TwiML document as sorted, indented lines: element,
// attributes in name order, text. twilio-go emits attributes in random order,
// so documents are never compared as strings.
func canonical(t testing.TB, doc string) string {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(doc))
	var b strings.Builder
	depth := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("TwiML: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			attrs := make([]string, 0, len(el.Attr))
			for _, a := range el.Attr {
				attrs = append(attrs, a.Name.Local+"="+a.Value)
			}
			slices.Sort(attrs)
			b.WriteString(strings.Repeat("  ", depth) + el.Name.Local)
			if len(attrs) > 0 {
				b.WriteString(" " + strings.Join(attrs, " "))
			}
			b.WriteString("\n")
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if s := strings.TrimSpace(string(el)); s != "" {
				b.WriteString(strings.Repeat("  ", depth) + "\"" + s + "\"\n")
			}
		}
	}
	return b.String()
}

// refs are spelled reference IDs, which are random.
var refs = regexp.MustCompile(`([A-Z0-9], ){7}[A-Z0-9]`)

// TestGoldenResetCall records the TwiML of a full phone reset in every
// catalog language (what the caller hears and which keys each gather takes)
// in testdata/reset_call_<lang>.golden, with every language offered at the
// start of the call. It also estimates, at 150 words per minute, how long
// each language's call speaks after the language menu, and holds every
// language to the reset target (TestPhoneSpeech measures every path).
func TestGoldenResetCall(t *testing.T) {
	cat, err := messages.Load()
	if err != nil {
		t.Fatal(err)
	}
	langs := cat.Languages()
	for i, lang := range langs {
		t.Run(lang, func(t *testing.T) {
			h := newHarness(t, func(c *config.Config) { phoneOf(c).Languages = langs })
			seed := h.enrollTOTP("amartin")
			before := h.fake.Sends()
			h.twiml = nil
			c := h.call("CA10" + strconv.Itoa(i))
			var lines []string
			step := func(label string, d func() TwiML) {
				d()
				lines = append(lines, "> "+label, canonical(t, h.twiml[len(h.twiml)-1]))
			}
			step("incoming", func() TwiML { return c.do("/voice/incoming", c.form()) })
			step("press "+strconv.Itoa(i+1)+" ("+cat.Lang(lang).Name+")", func() TwiML { return c.press(strconv.Itoa(i + 1)) })
			step("press 1 (reset)", func() TwiML { return c.press("1") })
			step("press 10041", func() TwiML { return c.press("10041") })
			// The authenticator is asked for at once, and the text message
			// is sent as soon as its code passes: no menus.
			code, _ := potp.GenerateCode(seed, h.clock())
			step("press <totp>", func() TwiML { return c.press(code) })
			h.waitSends(before + 1)
			step("press <sms code>", func() TwiML { return c.press(h.lastSMSCode()) })
			// The language menu is said before the caller has a language, and
			// grows with the languages offered; the target is for the rest.
			_, menu := speechSeconds(t, h.twiml[:1])
			// The call is timed to the goodbye: the optional rating question
			// after it (in the last gather) is skipped by hanging up.
			words, _ := speechSeconds(t, h.twiml[1:])
			rating := ratingWords(t, h.twiml[1:])
			if !rated(t, h.twiml[len(h.twiml)-1]) {
				t.Errorf("%s: no rating question after the goodbye", lang)
			}
			words -= rating
			secs := float64(words) / 150 * 60
			t.Logf("%s: a full phone reset speaks %d words, %.1f s at 150 words per minute, after a %.1f s language menu; "+
				"then the optional rating question, %.1f s", lang, words, secs, menu, float64(rating)/150*60)
			if secs > resetSpeechTarget {
				t.Errorf("%s: a full reset call speaks for %.1f s after the language menu; the target is %.0f s or less",
					lang, secs, resetSpeechTarget)
			}
			got := refs.ReplaceAllString(strings.Join(lines, "\n"), "<ref>")
			compareGolden(t, filepath.Join("testdata", "reset_call_"+lang+".golden"), got)
		})
	}
}

// compareGolden compares got with the file at path (-update rewrites it).
func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if got != string(want) {
		t.Fatalf("TwiML transcript differs from %s (run with -update to accept):\n%s", path, got)
	}
}
