package messages_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/resetbot/resetbot/core/messages"
)

// TestSixthLanguageIsOneFile proves that adding a language is one catalog
// file and no Go code: the English catalog, copied to a temp dir with its
// language block and one message rewritten as a made-up "xx" language, is
// loaded, validated, offered, spoken with its own voice and digit words, and
// its words cancel and start flows.
func TestSixthLanguageIsOneFile(t *testing.T) {
	dir := t.TempDir()
	en, err := os.ReadFile(filepath.Join("catalog", "en.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile(`(?ms)^language:\n.*?\n\n`)
	xx := block.ReplaceAll(en, []byte(`language:
  name: "Xx"
  voice: "Polly.Test"
  voice_language: "xx-XX"
  digits: ["nul", "een", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen"]
  spell_separator: " - "
  cancel: ["ophouden"]
  agent: ["mens"]
  help: ["hulp"]
  switch: ["xxtaal"]
  keywords: {reset: ["wachtwoord"], unlock: ["ontgrendel"], enroll: ["inschrijven"]}

`))
	xx = regexp.MustCompile(`(?m)^  voice: "Something went wrong on our side. Your reference is \{ref\}."`).
		ReplaceAll(xx, []byte(`  voice: "Er ging iets mis. Uw referentie is {ref}."`))
	for name, data := range map[string][]byte{"en.yaml": en, "xx.yaml": xx} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c, err := messages.LoadFS(os.DirFS(dir), ".")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := c.Languages(); !slices.Equal(got, []string{"en", "xx"}) {
		t.Fatalf("Languages = %v", got)
	}
	if !c.Supported("xx-YY") || c.Supported("ja") {
		t.Error("Supported does not follow the catalog files")
	}
	if v, l := c.Voice("xx"); v != "Polly.Test" || l != "xx-XX" {
		t.Errorf("Voice = %s %s", v, l)
	}
	got := c.Text("xx", "common.error", true, map[string]string{"ref": "R7K2"})
	if want := "Er ging iets mis. Uw referentie is R - zeven - K - twee."; got != want {
		t.Errorf("spoken = %q, want %q", got, want)
	}
	w := c.Words()
	if !w.Cancel["ophouden"] || !w.Cancel["cancel"] || !w.Agent["mens"] || w.Switch["xxtaal"] != "xx" ||
		!slices.Contains(w.Keywords["reset"], "wachtwoord") {
		t.Errorf("Words = %+v", w)
	}
}

// TestEveryLanguageHasItsWordsAndVoice checks the embedded catalogs' language
// blocks: a voice per language, and no word that means two things.
func TestEveryLanguageHasItsWordsAndVoice(t *testing.T) {
	c := load(t)
	seen := map[string]string{}
	for _, lang := range c.Languages() {
		l := c.Lang(lang)
		if v, tag := c.Voice(lang); v == "" || tag == "" {
			t.Errorf("%s: no voice", lang)
		}
		for kind, words := range map[string][]string{"cancel": l.Cancel, "agent": l.Agent, "help": l.Help, "switch": l.Switch} {
			for _, word := range words {
				word = messages.Fold(word)
				if prev, dup := seen[word]; dup && prev != kind {
					t.Errorf("%s: %q is both %s and %s", lang, word, prev, kind)
				}
				seen[word] = kind
			}
		}
	}
}
