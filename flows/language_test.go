package flows_test

import (
	"testing"

	"github.com/resetbot/resetbot/core/directory/memory"
	"github.com/resetbot/resetbot/core/engine"
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
			// The fast path: the chat identity maps to amartin, who has an
			// authenticator; the text message follows at once.
			h := newHarness(t)
			seed := enrollApp(t, h, "amartin")
			h.locale, h.hints = lang, aliceHints
			u := "U-" + lang
			if r := h.send("slack", u, text(cat.Lang(lang).Keywords["reset"][0])); r.Flow != "reset" {
				t.Fatalf("the %s reset keyword started %q", lang, r.Flow)
			}
			h.send("slack", u, text(h.totpCode(seed)))
			h.send("slack", u, text(h.code()))
			r := h.send("slack", u, masked("Lantern-Violet-Ocean-7", "Lantern-Violet-Ocean-7"))
			if r.State != "done" || r.Ended || r.Last().MessageID != engine.MsgRateAsk {
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

// TestLanguageChoice: a language word switches the conversation at once and
// sticks; the directory's preferredLanguage is spoken only after
// verification (before, it would tell a real account from an unknown one),
// and never over the user's own choice.
func TestLanguageChoice(t *testing.T) {
	withLang := func(lang string) []memory.Account {
		accts := memory.DemoAccounts()
		for i := range accts {
			if accts[i].Login == "amartin" {
				accts[i].PreferredLanguage = lang
			}
		}
		return accts
	}
	t.Run("directory language after verification", func(t *testing.T) {
		h := newHarnessWith(t, nil, withLang("de"))
		h.locale = "en-US"
		h.send("slack", "U1", text("reset"))
		if r := h.send("slack", "U1", text("amartin")); r.Locale != "en-US" {
			t.Fatalf("before verification the reply is in %q", r.Locale)
		}
		h.send("slack", "U1", choice("sms"))
		h.send("slack", "U1", text(h.code()))
		h.send("slack", "U1", choice("email"))
		if r := h.send("slack", "U1", text(h.code())); r.Locale != "de" || r.State != "new_password" {
			t.Fatalf("after verification: locale %q, state %s", r.Locale, r.State)
		}
		if r := h.send("slack", "U1", masked("Lantern-Violet-Ocean-7", "Lantern-Violet-Ocean-7")); r.Locale != "de" {
			t.Fatalf("the Slack locale took the conversation back to %q", r.Locale)
		}
	})
	t.Run("language word wins", func(t *testing.T) {
		h := newHarnessWith(t, nil, withLang("de"))
		h.locale = "en-US"
		h.send("slack", "U1", text("reset"))
		r := h.send("slack", "U1", text("Français"))
		if r.Locale != "fr" || len(r.Outputs) != 2 || r.Outputs[0].MessageID != "common.language" ||
			r.Outputs[1].MessageID != "identify.prompt" || r.State != "identify" {
			t.Fatalf("switch: %+v", r)
		}
		h.send("slack", "U1", text("amartin"))
		h.send("slack", "U1", choice("sms"))
		h.send("slack", "U1", text(h.code()))
		h.send("slack", "U1", choice("email"))
		if r := h.send("slack", "U1", text(h.code())); r.Locale != "fr" {
			t.Fatalf("the directory language replaced the user's choice: %q", r.Locale)
		}
	})
	t.Run("unknown user sees the same language", func(t *testing.T) {
		h := newHarnessWith(t, nil, withLang("de"))
		h.locale = "es"
		h.send("slack", "U1", text("reset"))
		known := h.send("slack", "U1", text("amartin"))
		h.send("slack", "U2", text("reset"))
		unknown := h.send("slack", "U2", text("nobody-here"))
		if known.Locale != unknown.Locale {
			t.Fatalf("known %q, unknown %q", known.Locale, unknown.Locale)
		}
	})
}
