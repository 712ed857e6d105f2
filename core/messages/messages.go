// Package messages is resetbot's message catalog: every text a user sees or
// hears is looked up by ID ("common.error", "reset.code_sent") in a language,
// with a chat variant and an optional voice variant for text-to-speech.
//
// Catalogs are YAML files embedded from catalog/<language>.yaml; the format is
// documented at the top of catalog/en.yaml. English is the reference: every
// other language must have the same IDs with the same placeholders, and
// Validate (run by the tests and by check-config) proves it.
//
// Flows refer to IDs, never to sentences, and adapters render them: chat
// adapters with the Chat variant, the phone with Voice. Values passed as
// arguments are inserted once and never re-expanded, so user-supplied text
// cannot inject placeholders.
package messages

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

//go:embed catalog/*.yaml
var embedded embed.FS

// DefaultLanguage is the reference language and the last fallback.
const DefaultLanguage = "en"

// FallbackID is rendered in place of an unknown ID.
const FallbackID = "common.fallback"

// fallbackText is used if even FallbackID is missing.
const fallbackText = "Sorry, something went wrong. Please try again later."

// Variant selects the chat or the spoken form of a message.
type Variant int

// Variants.
const (
	// Chat is the written form, used by Slack, Teams, e-mail, SMS and the console.
	Chat Variant = iota
	// Voice is the spoken form for the phone; it falls back to Chat.
	Voice
)

// String returns "chat" or "voice".
func (v Variant) String() string {
	if v == Voice {
		return "voice"
	}
	return "chat"
}

// entry is one message in one language.
type entry struct {
	Chat  string `yaml:"chat"`
	Voice string `yaml:"voice"`
}

// Catalog holds the messages of every language. It is safe for concurrent use.
type Catalog struct {
	langs map[string]map[string]entry
	meta  map[string]Language
	// fallback is the language of a locale without a catalog
	// (SetFallback; DefaultLanguage when empty).
	fallback string

	mu      sync.Mutex
	missing map[string]bool
}

// Load parses the catalogs embedded in the binary.
func Load() (*Catalog, error) { return LoadFS(embedded, "catalog") }

// LoadFS parses every <language>.yaml file in dir of fsys. It checks each
// file on its own (syntax, unknown keys, empty chat text, malformed
// placeholders) and requires the DefaultLanguage file; cross-language checks
// are done by Validate.
func LoadFS(fsys fs.FS, dir string) (*Catalog, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("messages: %w", err)
	}
	c := &Catalog{langs: map[string]map[string]entry{}, meta: map[string]Language{}, missing: map[string]bool{}}
	var errs []error
	for _, name := range names {
		lang := normalize(strings.TrimSuffix(path.Base(name), ".yaml"))
		entries, meta, err := parseFile(fsys, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c.langs[lang] = entries
		c.meta[lang] = meta
	}
	if len(errs) == 0 && c.langs[DefaultLanguage] == nil {
		errs = append(errs, fmt.Errorf("messages: no %s.yaml catalog in %s", DefaultLanguage, dir))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// file is one catalog file: the language block and the messages by ID.
type file struct {
	Language *Language        `yaml:"language"`
	Messages map[string]entry `yaml:",inline"`
}

func parseFile(fsys fs.FS, name string) (map[string]entry, Language, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, Language{}, fmt.Errorf("messages: %w", err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	var doc file
	if err := dec.Decode(&doc); err != nil {
		return nil, Language{}, fmt.Errorf("messages: %s: %w", name, err)
	}
	entries := doc.Messages
	var errs []error
	if doc.Language == nil {
		errs = append(errs, fmt.Errorf("messages: %s: no language block", name))
		doc.Language = &Language{}
	} else {
		for _, err := range doc.Language.check() {
			errs = append(errs, fmt.Errorf("messages: %s: %w", name, err))
		}
	}
	for id, e := range entries {
		if strings.TrimSpace(e.Chat) == "" {
			errs = append(errs, fmt.Errorf("messages: %s: %s: empty chat text", name, id))
		}
		for _, t := range []string{e.Chat, e.Voice} {
			if _, err := parse(t); err != nil {
				errs = append(errs, fmt.Errorf("messages: %s: %s: %w", name, id, err))
			}
		}
	}
	return entries, *doc.Language, errors.Join(errs...)
}

// Languages returns the catalog languages: DefaultLanguage first, then the
// others sorted. They are the supported languages: whatever catalog files
// exist, no list in Go code.
func (c *Catalog) Languages() []string {
	out := make([]string, 0, len(c.langs))
	for l := range c.langs {
		if l != DefaultLanguage {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return append([]string{DefaultLanguage}, out...)
}

// Has reports whether id exists in the reference (English) catalog.
func (c *Catalog) Has(id string) bool {
	_, ok := c.langs[DefaultLanguage][id]
	return ok
}

// IDs returns every ID of the reference catalog, sorted.
func (c *Catalog) IDs() []string {
	out := make([]string, 0, len(c.langs[DefaultLanguage]))
	for id := range c.langs[DefaultLanguage] {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// Language returns the catalog language used for locale: the full tag if a
// catalog has it ("pt-br"), else its language part ("es-MX" → "es"), else
// a regional catalog of the same language ("pt" → "pt-br"), else
// DefaultLanguage. Case and "_" versus "-" do not matter.
func (c *Catalog) Language(locale string) string {
	if l, ok := c.match(locale); ok {
		return l
	}
	if c.fallback != "" {
		return c.fallback
	}
	return DefaultLanguage
}

// match finds the catalog language of locale: itself, its base language, or
// the closest regional catalog of that base.
func (c *Catalog) match(locale string) (string, bool) {
	l := normalize(locale)
	if _, ok := c.langs[l]; ok {
		return l, true
	}
	base, _, _ := strings.Cut(l, "-")
	if _, ok := c.langs[base]; ok {
		return base, true
	}
	// "pt" or "pt-PT" with only a pt-BR catalog: the closest regional one.
	for _, lang := range c.Languages() {
		if strings.HasPrefix(lang, base+"-") {
			return lang, true
		}
	}
	return "", false
}

// SetFallback makes lang the language of every locale without a catalog
// (the operator's default language). It must have a catalog. Call it once,
// before the catalog is shared.
func (c *Catalog) SetFallback(lang string) error {
	if !c.Supported(lang) {
		return fmt.Errorf("messages: no catalog for %q", lang)
	}
	c.fallback = c.Language(lang)
	return nil
}

func normalize(locale string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(locale), "_", "-"))
}

// Template returns the unrendered text of id for locale and variant, after
// the fallbacks Render applies, and whether id exists at all.
func (c *Catalog) Template(locale, id string, v Variant) (string, bool) {
	for _, lang := range []string{c.Language(locale), DefaultLanguage} {
		e, ok := c.langs[lang][id]
		if !ok {
			continue
		}
		if v == Voice && e.Voice != "" {
			return e.Voice, true
		}
		return e.Chat, true
	}
	return "", false
}

// Render returns message id in the language best matching locale, in the
// given variant, with {placeholders} replaced by args. Lookup falls back from
// "es-MX" to "es" to English, and from Voice to Chat within a language.
//
// An unknown id renders the generic FallbackID text and is remembered for
// Missing, so tests can catch it; a placeholder without an argument renders
// as nothing (CheckArgs catches that in tests).
func (c *Catalog) Render(locale, id string, v Variant, args map[string]string) string {
	t, ok := c.Template(locale, id, v)
	if !ok {
		c.mu.Lock()
		c.missing[id] = true
		c.mu.Unlock()
		if t, ok = c.Template(locale, FallbackID, v); !ok {
			return fallbackText
		}
	}
	if !strings.ContainsAny(t, "{}") {
		return t // no placeholder: nothing to parse or copy (most messages)
	}
	segs, err := parse(t)
	if err != nil { // impossible: templates are checked at load
		return fallbackText
	}
	var b strings.Builder
	for _, s := range segs {
		if s.name == "" {
			b.WriteString(s.text)
		} else {
			b.WriteString(args[s.name])
		}
	}
	return b.String()
}

// Missing returns, sorted, every unknown ID that Render was asked for.
func (c *Catalog) Missing() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.missing))
	for id := range c.missing {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// CheckArgs returns an error naming every placeholder of id (in any language
// or variant) that args does not supply, or the unknown id itself. Use it in
// flow tests for every (message ID, arguments) pair a flow emits.
func (c *Catalog) CheckArgs(id string, args map[string]string) error {
	if !c.Has(id) {
		return fmt.Errorf("messages: unknown id %q", id)
	}
	need := map[string]bool{}
	for _, entries := range c.langs {
		e := entries[id]
		for _, t := range []string{e.Chat, e.Voice} {
			for _, p := range Placeholders(t) {
				need[p] = true
			}
		}
	}
	var missing []string
	for p := range need {
		if _, ok := args[p]; !ok {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("messages: %s: missing arguments %s", id, strings.Join(missing, ", "))
	}
	return nil
}
