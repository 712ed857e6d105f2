package engine_test

import (
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/logging/loggingtest"
	"github.com/resetbot/resetbot/core/store/memory"
)

// TestLanguageWords: a language word switches the conversation at once
// (confirmation, then the same prompt again) and beats the channel's locale
// from then on; without a conversation it answers the menu in the new
// language; a help word explains and repeats the prompt.
func TestLanguageWords(t *testing.T) {
	fx := newFixture(t)
	in := func(locale string, i engine.Input) engine.Reply {
		tt := turn(i)
		tt.Locale = locale
		return fx.eng.Handle(t.Context(), tt)
	}
	if r := in("en-US", text("français")); ids(r) != engine.MsgLanguage+","+engine.MsgMenu || r.Locale != "fr" {
		t.Fatalf("no session: %s in %q", ids(r), r.Locale)
	}
	if r := in("en-US", text("help")); ids(r) != engine.MsgHelp+","+engine.MsgMenu {
		t.Fatalf("help without session: %s", ids(r))
	}
	in("en-US", text("test"))
	r := in("en-US", text("  Français ! "))
	if ids(r) != engine.MsgLanguage+",ask.prompt" || r.Locale != "fr" || r.State != "ask" {
		t.Fatalf("switch: %s in %q at %s", ids(r), r.Locale, r.State)
	}
	if r := in("en-US", text("help")); ids(r) != engine.MsgHelp+",ask.prompt" || r.Locale != "fr" {
		t.Fatalf("help: %s in %q", ids(r), r.Locale)
	}
	if r := in("en-US", text("annuler")); !r.Ended {
		t.Fatalf("a cancel word of another language did not cancel: %s", ids(r))
	}
}

// TestChosenLocaleAndChannelLocale: the channel's locale follows the user
// turn by turn until the user chooses one (the phone's language menu).
func TestChosenLocaleAndChannelLocale(t *testing.T) {
	fx := newFixture(t)
	tt := turn(text("test"))
	tt.Locale, tt.LocaleChosen = "es", true
	if r := fx.eng.Handle(t.Context(), tt); r.Locale != "es" {
		t.Fatalf("start: %q", r.Locale)
	}
	tt = turn(text("x"))
	tt.Locale = "en"
	if r := fx.eng.Handle(t.Context(), tt); r.Locale != "es" {
		t.Fatalf("the channel locale replaced the chosen one: %q", r.Locale)
	}
}

// TestUnsupportedLocaleLoggedOnce: a locale without a catalog is served in
// the default language and logged once, however many turns use it.
func TestUnsupportedLocaleLoggedOnce(t *testing.T) {
	log, buf := loggingtest.Capture(t)
	tf := &testFlow{}
	eng, err := engine.New(engine.Options{Store: memory.New(), Flows: []*engine.Flow{tf.flow()}, Log: log, Words: testWords,
		Supports: func(l string) bool { return strings.HasPrefix(l, "en") || strings.HasPrefix(l, "fr") }})
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []engine.Input{text("test"), text("x"), text("y")} {
		tt := turn(i)
		tt.Locale = "ja-JP"
		if r := eng.Handle(t.Context(), tt); r.Locale != "" {
			t.Fatalf("reply in %q, want the default", r.Locale)
		}
	}
	if n := strings.Count(buf.String(), "locale has no message catalog"); n != 1 {
		t.Fatalf("logged %d times:\n%s", n, buf.String())
	}
}
