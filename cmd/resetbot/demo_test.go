package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/resetbot/resetbot/app"
	"github.com/resetbot/resetbot/bot/console"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/messages"
	"github.com/resetbot/resetbot/plugins"
)

// screen is the demo's terminal: the test waits for text on it.
type screen struct {
	mu   sync.Mutex
	text string
	pos  int
}

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	s.text += string(p)
	s.mu.Unlock()
	return len(p), nil
}

// expect waits for re after what earlier expects consumed and returns its
// submatches.
func (s *screen) expect(t *testing.T, re string) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(15 * time.Second)
	for {
		s.mu.Lock()
		m := rx.FindStringSubmatchIndex(s.text[s.pos:])
		if m != nil {
			out := make([]string, 0, len(m)/2)
			for i := 0; i+1 < len(m); i += 2 {
				if m[i] >= 0 {
					out = append(out, s.text[s.pos+m[i]:s.pos+m[i+1]])
				} else {
					out = append(out, "")
				}
			}
			s.pos += m[1]
			s.mu.Unlock()
			return out
		}
		rest := s.text[s.pos:]
		s.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no %q on the screen; it shows:\n%s", re, rest)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// idMessages shows each message's ID before its text, so the test follows
// the flow by IDs, not by wording.
// It keeps the catalog's other methods (voices, languages) for the phone.
type idMessages struct{ *messages.Catalog }

func (m idMessages) Text(locale, id string, voice bool, args map[string]string) string {
	return "<" + id + "> " + m.Catalog.Text(locale, id, voice, args)
}

func demoApp(t *testing.T, out io.Writer) *app.App {
	t.Helper()
	cfg, probs := config.Load("", nil, plugins.All())
	if probs.HasErrors() {
		t.Fatal(probs.Error())
	}
	cfg.Audit.File = filepath.Join(t.TempDir(), "audit.jsonl")
	a, err := app.Build(context.Background(), cfg, app.Options{Outbox: out, Floor: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// TestDemoEnrollThenResetWithTheApp drives the chat demo as a person would,
// with the chat identity of bnguyen (demo -as bnguyen): enroll an
// authenticator app, then, in a second conversation of the same run, reset
// the password in four actions — "reset", the app's code, the text
// message's code (sent at once), the password form (typed twice, hidden).
func TestDemoEnrollThenResetWithTheApp(t *testing.T) {
	scr := &screen{}
	a := demoApp(t, scr)
	in, typ := io.Pipe()
	c := &console.Console{Engine: a.Engine, Messages: idMessages{a.Messages}, In: in, Out: scr, User: "demo-test", Locale: "en",
		Hints: demoHints("bnguyen")}
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background(), "") }()
	send := func(s string) { t.Helper(); fmt.Fprintln(typ, s) }
	choose := func(label string) {
		t.Helper()
		// The choice's line for label, then the prompt after those choices.
		send(scr.expect(t, `\[(\d)\] <[^>]*> [^\n]*`+label+`[^\n]*\n(?:[^\n]*\n)*?you> `)[1])
	}
	code := func() string { t.Helper(); return scr.expect(t, `OUTBOX(?:[^└]*?)\b(\d{6})\b`)[1] }

	scr.expect(t, `you> `)
	send("enroll")
	scr.expect(t, `<identify.as.enroll> [^\n]*bnguyen`)
	choose("Text message") // beside the authenticator's prompt: bnguyen has none yet
	send(code())
	email := code() // the email code, sent at once (the outbox shows before the reply)
	scr.expect(t, `<code.sent_to>`)
	send(email)
	key := scr.expect(t, `setup key: (\S+)`)[1]
	enrolledAt := time.Now()
	now, err := totp.GenerateCode(key, enrolledAt)
	if err != nil {
		t.Fatal(err)
	}
	send(now)
	scr.expect(t, `<enroll.done>`)
	// The optional rating question after the goodbye: answered here.
	scr.expect(t, `<rate.ask>`)
	choose("Yes, easy")
	scr.expect(t, `<rate.thanks>`)
	scr.expect(t, `conversation ended`)

	// Second conversation, same run: four actions.
	scr.expect(t, `you> `)
	send("reset") // 1
	scr.expect(t, `<identify.as.reset> [^\n]*bnguyen`)
	scr.expect(t, `<totp.prompt>[^\n]*\n(?:[^\n]*\n)*?you> `)
	// Each time step is accepted once: use the next one (±1 step is accepted).
	next, _ := totp.GenerateCode(key, enrolledAt.Add(30*time.Second))
	send(next[:3] + " " + next[3:]) // 2, pasted with a space
	sms := code()                   // sent at once
	scr.expect(t, `<verify.ok_more>`)
	send(sms) // 3
	scr.expect(t, `hidden\)> `)
	send("Tulip-Walrus-Mocha-42") // 4: one form, typed twice
	scr.expect(t, `hidden\)> `)
	send("Tulip-Walrus-Mocha-42")
	scr.expect(t, `<reset.done>`)
	typ.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if strings.Contains(scr.text, "Tulip-Walrus-Mocha-42") {
		t.Fatal("the new password was shown on the screen")
	}
}

// TestPhoneDemoIsTheLine: the phone demo runs the Twilio line's code, so it
// has the line's language menu, silence rule (re-prompt once, then goodbye)
// and keys (0 for a person is a transfer).
func TestPhoneDemoIsTheLine(t *testing.T) {
	for _, c := range []struct {
		name, keys string
		want       []string
	}{
		{"silence", "\n\n\n", []string{`<twilio.language>`, `<common.no_input>`, `<twilio.expired>`, `call ended`}},
		{"zero for a person", "1\n0\n", []string{`<twilio.language>`, `<twilio.transfer>`, `transferred to the help desk at \+1`, `call ended`}},
		{"star repeats", "1\n*\n", []string{`<twilio.hint(?:_languages)?>`, `<flow.reset>`, `keypad> [^\n]*<`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			scr := &screen{}
			a := demoApp(t, scr)
			p, err := demoPhone(a, idMessages{a.Messages}, nil, "en", strings.NewReader(c.keys), scr)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			for _, w := range c.want {
				scr.expect(t, w)
			}
		})
	}
}

// TestDemoRefusesAnUnsupportedLanguage: -lang tlh (no catalog) is an error
// listing the languages, not a silent fallback to English.
func TestDemoRefusesAnUnsupportedLanguage(t *testing.T) {
	var code int
	out := captureStderr(t, func() { code = runDemo(context.Background(), []string{"-lang", "tlh"}) })
	if code == 0 || !strings.Contains(out, `"tlh"`) || !strings.Contains(out, "en, de, es, fr, pt-br") {
		t.Fatalf("exit %d, stderr:\n%s", code, out)
	}
}
