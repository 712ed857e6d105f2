package messages_test

import (
	"testing"

	"github.com/resetbot/resetbot/core/messages"
)

// TestFallbackLanguage: the operator's default language serves every locale
// without a catalog; locales with one keep it, and a default without a
// catalog is refused.
func TestFallbackLanguage(t *testing.T) {
	c, err := messages.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Language("tlh"); got != messages.DefaultLanguage {
		t.Fatalf("before SetFallback: %s", got)
	}
	if err := c.SetFallback("tlh"); err == nil {
		t.Fatal("a fallback without a catalog was accepted")
	}
	if err := c.SetFallback("fr"); err != nil {
		t.Fatal(err)
	}
	for locale, want := range map[string]string{"tlh": "fr", "ja-JP": "fr", "": "fr", "es-MX": "es", "en-GB": "en", "pt": "pt-br"} {
		if got := c.Language(locale); got != want {
			t.Errorf("Language(%q) = %s, want %s", locale, got, want)
		}
	}
	if c.Supported("tlh") || !c.Supported("de-CH") {
		t.Error("Supported must not follow the fallback")
	}
	if got := c.Render("tlh", "common.help", messages.Chat, nil); got == c.Render("en", "common.help", messages.Chat, nil) {
		t.Errorf("an unsupported locale was not served in French: %q", got)
	}
}
