package messages

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// segment is literal text or, when name is set, a placeholder.
type segment struct {
	text string
	name string
}

// parse splits a template into literal text and {name} placeholders. Names
// are lower-case letters, digits and '_', starting with a letter. A brace that
// does not form a placeholder is an error: the format has no escapes, so a
// stray brace is almost certainly a typo.
func parse(t string) ([]segment, error) {
	var segs []segment
	for t != "" {
		open := strings.IndexAny(t, "{}")
		if open < 0 {
			segs = append(segs, segment{text: t})
			break
		}
		if t[open] == '}' {
			return nil, errors.New("unmatched '}'")
		}
		end := strings.IndexByte(t[open:], '}')
		if end < 0 {
			return nil, errors.New("unmatched '{'")
		}
		name := t[open+1 : open+end]
		if !validName(name) {
			return nil, fmt.Errorf("bad placeholder {%s}", name)
		}
		if open > 0 {
			segs = append(segs, segment{text: t[:open]})
		}
		segs = append(segs, segment{name: name})
		t = t[open+end+1:]
	}
	return segs, nil
}

func validName(n string) bool {
	if n == "" || n[0] < 'a' || n[0] > 'z' {
		return false
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// Placeholders returns the distinct placeholder names of a template, sorted.
// A malformed template has none.
func Placeholders(t string) []string {
	segs, _ := parse(t)
	var out []string
	for _, s := range segs {
		if s.name != "" && !slices.Contains(out, s.name) {
			out = append(out, s.name)
		}
	}
	sort.Strings(out)
	return out
}

// VoiceSymbols are characters a text-to-speech engine reads aloud literally
// or mangles; spoken variants must not contain them outside placeholders.
const VoiceSymbols = "*#@/_<>`~|[]\\^{}"

// literal returns the template without its placeholders.
func literal(t string) string {
	segs, _ := parse(t)
	var b strings.Builder
	for _, s := range segs {
		b.WriteString(s.text)
	}
	return b.String()
}

// Validate checks the catalog as a whole and returns every problem found:
// each language has exactly the IDs of English; each translation uses the
// same placeholders as English, per variant; the spoken form of every message
// (its voice text, or its chat text when it has none) contains no
// VoiceSymbols; and FallbackID exists.
func (c *Catalog) Validate() error {
	var errs []error
	ref := c.langs[DefaultLanguage]
	if _, ok := ref[FallbackID]; !ok {
		errs = append(errs, fmt.Errorf("messages: %s: %s is missing", DefaultLanguage, FallbackID))
	}
	for _, lang := range c.Languages() {
		entries := c.langs[lang]
		for _, id := range sortedKeys(entries) {
			e := entries[id]
			r, ok := ref[id]
			if !ok {
				errs = append(errs, fmt.Errorf("messages: %s: %s is not in %s", lang, id, DefaultLanguage))
				continue
			}
			errs = append(errs, comparePlaceholders(lang, id, "chat", e.Chat, r.Chat))
			errs = append(errs, comparePlaceholders(lang, id, "voice", spoken(e), spoken(r)))
			errs = append(errs, unspeakable(lang, id, literal(spoken(e))))
		}
		for _, id := range sortedKeys(ref) {
			if _, ok := entries[id]; !ok {
				errs = append(errs, fmt.Errorf("messages: %s: %s is missing", lang, id))
			}
		}
	}
	return errors.Join(errs...)
}

// unspeakable reports spoken text a text-to-speech voice would mangle:
// symbols, digits (read as numbers, in the voice's guess of a language:
// spell them as words or pass them as {placeholders}) and web addresses.
func unspeakable(lang, id, text string) error {
	if i := strings.IndexAny(text, VoiceSymbols); i >= 0 {
		return fmt.Errorf("messages: %s: %s: spoken text contains %q; add a voice variant without symbols", lang, id, text[i])
	}
	if i := strings.IndexAny(text, "0123456789"); i >= 0 {
		return fmt.Errorf("messages: %s: %s: spoken text has an unexpanded digit %q; say it in words", lang, id, text[i])
	}
	low := strings.ToLower(text)
	for _, u := range []string{"http:", "https:", "www.", ".com", ".org", ".net"} {
		if strings.Contains(low, u) {
			return fmt.Errorf("messages: %s: %s: spoken text contains a web address (%s)", lang, id, u)
		}
	}
	return nil
}

func spoken(e entry) string {
	if e.Voice != "" {
		return e.Voice
	}
	return e.Chat
}

func comparePlaceholders(lang, id, variant, got, want string) error {
	g, w := Placeholders(got), Placeholders(want)
	if slices.Equal(g, w) {
		return nil
	}
	return fmt.Errorf("messages: %s: %s: %s placeholders %v differ from %s %v", lang, id, variant, g, DefaultLanguage, w)
}

func sortedKeys(m map[string]entry) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// SpellDigits spells a code or reference for text-to-speech, one character at
// a time: "1234" becomes "1, 2, 3, 4" and "r7-k2" becomes "R, 7, K, 2".
// Letters are upper-cased; anything but letters and digits is dropped.
// Catalog.Text spells in the locale's own way (Language.spell).
func SpellDigits(s string) string { return Language{}.spell(s) }
