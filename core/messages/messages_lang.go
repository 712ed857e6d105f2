package messages

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// Language is everything a catalog file says about its language that is not
// a message: the words people type, the phone voice and how references are
// spelled out. It is the "language:" block at the top of every catalog file,
// so adding a language is one file and no Go code.
type Language struct {
	// Name is the language's own name ("Français"), for logs and docs.
	Name string `yaml:"name"`
	// Voice is the Twilio <Say> voice (an Amazon Polly or Google voice name
	// Twilio accepts, "Polly.Lea"); VoiceLanguage is its BCP 47 tag ("fr-FR").
	Voice         string `yaml:"voice"`
	VoiceLanguage string `yaml:"voice_language"`
	// Digits are the ten words for 0 to 9 as the voice should say them when a
	// code or reference is spelled out; SpellSeparator goes between spelled
	// characters (a comma gives the listener a pause).
	Digits         []string `yaml:"digits"`
	SpellSeparator string   `yaml:"spell_separator"`
	// Cancel, Agent and Help are whole inputs that leave the flow, ask for a
	// person, or ask what the bot can do, from any step.
	Cancel []string `yaml:"cancel"`
	Agent  []string `yaml:"agent"`
	Help   []string `yaml:"help"`
	// Switch are the words that switch the conversation to this language
	// ("français", "french").
	Switch []string `yaml:"switch"`
	// Keywords start a flow from free text, by flow name (reset, unlock, enroll).
	Keywords map[string][]string `yaml:"keywords"`
}

// check returns the problems of one file's language block.
func (l *Language) check() []error {
	var errs []error
	if strings.TrimSpace(l.Name) == "" {
		errs = append(errs, fmt.Errorf("language.name is empty"))
	}
	if !strings.HasPrefix(l.Voice, "Polly.") && !strings.HasPrefix(l.Voice, "Google.") {
		errs = append(errs, fmt.Errorf("language.voice %q is not a Polly.* or Google.* voice", l.Voice))
	}
	if l.VoiceLanguage == "" {
		errs = append(errs, fmt.Errorf("language.voice_language is empty"))
	}
	if len(l.Digits) != 0 && len(l.Digits) != 10 {
		errs = append(errs, fmt.Errorf("language.digits has %d words, want 10", len(l.Digits)))
	}
	for name, words := range map[string][]string{"cancel": l.Cancel, "agent": l.Agent, "help": l.Help, "switch": l.Switch} {
		if len(words) == 0 {
			errs = append(errs, fmt.Errorf("language.%s is empty", name))
		}
	}
	for _, f := range []string{"reset", "unlock", "enroll"} {
		if len(l.Keywords[f]) == 0 {
			errs = append(errs, fmt.Errorf("language.keywords.%s is empty", f))
		}
	}
	return errs
}

// Lang returns the language block of the catalog language best matching
// locale (see Language).
func (c *Catalog) Lang(locale string) Language { return c.meta[c.Language(locale)] }

// Supported reports whether locale has a catalog of its own (by full tag or
// language part), rather than falling back to DefaultLanguage.
func (c *Catalog) Supported(locale string) bool {
	_, ok := c.match(locale)
	return ok
}

// Voice returns the Twilio voice name and its language tag for locale.
func (c *Catalog) Voice(locale string) (voice, language string) {
	l := c.Lang(locale)
	return l.Voice, l.VoiceLanguage
}

// Words is the union of every language's words, normalized with Fold, for the
// engine: any supported language's "cancel" cancels, whatever the locale.
type Words struct {
	Cancel, Agent, Help map[string]bool
	// Switch maps a word to the catalog language it selects.
	Switch map[string]string
	// Keywords maps a flow name to its keywords in every language.
	Keywords map[string][]string
}

// Words collects the typed words of every catalog language.
func (c *Catalog) Words() Words {
	w := Words{Cancel: map[string]bool{}, Agent: map[string]bool{}, Help: map[string]bool{},
		Switch: map[string]string{}, Keywords: map[string][]string{}}
	for _, lang := range c.Languages() {
		m := c.meta[lang]
		for _, s := range m.Cancel {
			w.Cancel[Fold(s)] = true
		}
		for _, s := range m.Agent {
			w.Agent[Fold(s)] = true
		}
		for _, s := range m.Help {
			w.Help[Fold(s)] = true
		}
		for _, s := range m.Switch {
			w.Switch[Fold(s)] = lang
		}
		for f, ks := range m.Keywords {
			for _, k := range ks {
				if k = Fold(k); !slices.Contains(w.Keywords[f], k) {
					w.Keywords[f] = append(w.Keywords[f], k)
				}
			}
		}
	}
	return w
}

// Fold normalizes typed input for word matching: lower case, single spaces,
// no surrounding punctuation ("¡Cancelar!" → "cancelar").
func Fold(s string) string {
	s = strings.Join(strings.Fields(strings.ToLower(s)), " ")
	return strings.TrimFunc(s, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSpace(r) })
}

// spell spells a code or reference for text-to-speech in lang, one character
// at a time, with the language's digit words and separator. Letters are
// upper-cased; anything but letters and digits is dropped.
func (l Language) spell(s string) string {
	sep := l.SpellSeparator
	if sep == "" {
		sep = ", "
	}
	var parts []string
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9' && len(l.Digits) == 10:
			parts = append(parts, l.Digits[r-'0'])
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			parts = append(parts, string(unicode.ToUpper(r)))
		}
	}
	return strings.Join(parts, sep)
}
