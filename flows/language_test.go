package flows_test

import (
	"testing"

	"github.com/resetbot/resetbot/core/messages"
)

// TestChatResetEveryLanguage runs one full chat reset in every catalog
// language, started by that language's own reset keyword, and records what
// the user reads in testdata/chat_reset_<lang>.golden. A new catalog file
// gets its transcript with go test ./flows -update.
func TestChatResetEveryLanguage(t *testing.T) {
	cat, err := messages.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range cat.Languages() {
		t.Run(lang, func(t *testing.T) {
			h := newHarness(t)
			h.locale = lang
			u := "U-" + lang
			if r := h.send("slack", u, text(cat.Lang(lang).Keywords["reset"][0])); r.Flow != "reset" {
				t.Fatalf("the %s reset keyword started %q", lang, r.Flow)
			}
			h.send("slack", u, text("amartin"))
			h.send("slack", u, choice("sms"))
			h.send("slack", u, text(h.code()))
			h.send("slack", u, choice("email"))
			h.send("slack", u, text(h.code()))
			r := h.send("slack", u, masked("Lantern-Violet-Ocean-7", "Lantern-Violet-Ocean-7"))
			if r.State != "done" || !r.Ended {
				t.Fatalf("ended in %s", r.State)
			}
			h.secrets = append(h.secrets, "Lantern-Violet-Ocean-7")
			h.assertNoLeaks()
			h.golden("chat_reset_" + lang)
		})
	}
}

// TestCancelWordsOfEveryLanguage: each language's cancel word ends a
// conversation whatever language the user started in.
func TestCancelWordsOfEveryLanguage(t *testing.T) {
	cat, err := messages.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range cat.Languages() {
		for _, word := range cat.Lang(lang).Cancel {
			h := newHarness(t)
			h.send("slack", "U1", text(cat.Lang("en").Keywords["reset"][0]))
			if r := h.send("slack", "U1", text(word)); !r.Ended {
				t.Errorf("%s: %q did not cancel (state %s)", lang, word, r.State)
			}
		}
	}
}
