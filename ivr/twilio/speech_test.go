package twilio_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	potp "github.com/pquerna/otp/totp"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/messages"
	ivr "github.com/resetbot/resetbot/ivr/twilio"
)

// Speech targets of the phone paths at 150 words per minute (issue 12).
const (
	resetSpeechTarget  = 60.0
	unlockSpeechTarget = 40.0
)

// phonePath is one scripted call: the menu key of its flow, the account's
// employee number, whether it has an authenticator, and the factor keys the
// caller prefers when a menu of factors is offered.
type phonePath struct {
	name    string
	flow    string
	login   string
	emp     string
	totp    bool
	factors []string
	target  float64
	endWith string // a word of the last reply in English, to prove the path finished
}

var phonePaths = []phonePath{
	{name: "reset (authenticator + text)", flow: "1", login: "amartin", emp: "10041", totp: true,
		factors: []string{"1", "2"}, target: resetSpeechTarget, endWith: "Password changed"},
	{name: "unlock (authenticator)", flow: "2", login: "crossi", emp: "10063", totp: true,
		factors: []string{"1"}, target: unlockSpeechTarget, endWith: "Account unlocked"},
	{name: "unlock (text code)", flow: "2", login: "crossi", emp: "10063",
		factors: []string{"2"}, target: unlockSpeechTarget, endWith: "Account unlocked"},
	{name: "unlock (call code)", flow: "2", login: "crossi", emp: "10063",
		factors: []string{"3"}, target: unlockSpeechTarget, endWith: "Account unlocked"},
}

// pathResult is what a scripted call cost the caller.
type pathResult struct {
	keys     int     // key entries (a number and its pound key are one)
	menu     float64 // seconds of the language menu (0 when it did not play)
	seconds  float64 // seconds of speech after the language menu
	lastText string
}

// TestPhoneSpeech runs every phone path through the real handler in every
// catalog language, counts the caller's key entries and the seconds of
// speech at 150 words per minute (every <Say> of the call, the language menu
// and the final reference included; only the code call, a separate call, is
// left out), and holds each path to its target (a reset at most 60 s, an
// unlock at most 40 s) both on a first call, which hears the language menu
// of every language, and for a returning caller, whose language is
// remembered. It logs the table of seconds and key entries.
func TestPhoneSpeech(t *testing.T) {
	cat, err := messages.Load()
	if err != nil {
		t.Fatal(err)
	}
	langs := cat.Languages()
	table := []string{"path | language | first call: keys, s (menu s) | returning: keys, s"}
	for _, p := range phonePaths {
		for i, lang := range langs {
			t.Run(p.name+"/"+lang, func(t *testing.T) {
				var first, again pathResult
				t.Run("first call", func(t *testing.T) {
					first = runPath(t, newPathHarness(t, p, langs), p, "CA7"+strconv.Itoa(i), strconv.Itoa(i+1))
					if first.menu == 0 {
						t.Errorf("a first call did not hear the language menu")
					}
					checkPath(t, p, lang, "a first call", first)
				})
				t.Run("returning caller", func(t *testing.T) {
					// An earlier call from the number chose the language and
					// hung up at the menu.
					h := newPathHarness(t, p, langs)
					c := h.call("CA9" + strconv.Itoa(i))
					c.start(strconv.Itoa(i + 1))
					c.hangUp()
					again = runPath(t, h, p, "CA8"+strconv.Itoa(i), strconv.Itoa(i+1))
					if again.menu != 0 {
						t.Errorf("a returning caller heard the language menu")
					}
					checkPath(t, p, lang, "a returning caller", again)
				})
				table = append(table, fmt.Sprintf("%s | %s | %d, %.1f (%.1f) | %d, %.1f", p.name, lang,
					first.keys, first.total(), first.menu, again.keys, again.total()))
			})
		}
	}
	t.Log("seconds of speech at 150 words a minute, key entries\n" + strings.Join(table, "\n"))
}

// checkPath holds one call of p to its target and, in English, checks that
// it finished as the path should.
func checkPath(t *testing.T, p phonePath, lang, who string, r pathResult) {
	t.Helper()
	if lang == "en" && !strings.Contains(r.lastText, p.endWith) {
		t.Errorf("%s: the call ended with %q, want %q", p.name, r.lastText, p.endWith)
	}
	if s := r.total(); s > p.target {
		t.Errorf("%s in %s: %s hears %.1f s of speech; the target is %.0f s", p.name, lang, who, s, p.target)
	}
}

// total is the seconds of speech of the whole call.
func (r pathResult) total() float64 { return r.menu + r.seconds }

// runPath drives one call of path p: language (when asked), flow, employee
// number, then factors until the call hangs up.
func runPath(t *testing.T, h *harness, p phonePath, sid, langKey string) pathResult {
	t.Helper()
	var r pathResult
	start := len(h.twiml)
	c := h.call(sid)
	d := c.do(ivr.PathIncoming, c.form())
	if d.Gather != nil && strings.Contains(d.Gather.Action, ivr.PathLanguage) {
		_, r.menu = speechSeconds(t, h.twiml[start:])
		start = len(h.twiml)
		r.keys++
		c.press(langKey)
	}
	press := func(k string) TwiML { r.keys++; return c.press(k) }
	press(p.flow)
	d = press(p.emp)
	// The factor keys are pressed in a menu, or beside a code prompt that
	// asks for another method at once; a code prompt right after a code
	// is a second factor sent at once.
	f, pending, afterCode := 0, "", false
	sends, calls := h.fake.Sends(), len(h.fake.Calls())
	for step := 0; d.Hangup == nil && d.Dial == nil; step++ {
		if step > 8 || d.Gather == nil {
			t.Fatalf("%s: the call did not finish: %s", p.name, d.Text())
		}
		menu := d.Gather.NumDigits == "1"
		if rated(t, h.twiml[len(h.twiml)-1]) {
			// The optional rating question after the goodbye: skipped.
			r.lastText = d.Text()
			d = c.silence()
			continue
		}
		switch {
		case menu && f < len(p.factors):
			pending, f, afterCode = p.factors[f], f+1, false
			d = press(pending)
		case menu:
			t.Fatalf("%s: an unexpected menu: %s", p.name, d.Text())
		case pending == "1" || pending == "" && !afterCode && f < len(p.factors) && p.factors[f] == "1":
			if pending == "" {
				f++
			}
			code, _ := potp.GenerateCode(h.seed, h.clock())
			pending, afterCode = "", true
			d = press(code)
		case pending == "" && !afterCode && f < len(p.factors):
			pending, f = p.factors[f], f+1
			d = press(pending)
		default:
			if pending == "" {
				f++ // the next factor was sent at once
			}
			h.waitSends(sends + 1)
			var code string
			if len(h.fake.Calls()) > calls {
				code = h.hearCode()
			} else {
				code = h.lastSMSCode()
			}
			sends, calls, pending, afterCode = h.fake.Sends(), len(h.fake.Calls()), "", true
			d = press(code)
		}
	}
	words, _ := speechSeconds(t, h.twiml[start:])
	r.seconds = float64(words-ratingWords(t, h.twiml[start:])) / 150 * 60
	if r.lastText == "" {
		r.lastText = d.Text()
	}
	return r
}

// newPathHarness is a harness offering every language, with an
// authenticator enrolled for the path's account if it uses one.
func newPathHarness(t *testing.T, p phonePath, langs []string) *harness {
	h := newHarness(t, func(c *config.Config) { phoneOf(c).Languages = langs })
	if p.totp {
		h.seed = h.enrollTOTP(p.login)
	}
	return h
}
