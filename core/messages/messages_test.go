package messages_test

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/resetbot/resetbot/core/messages"
)

func load(t *testing.T) *messages.Catalog {
	t.Helper()
	c, err := messages.Load()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestEmbeddedCatalogIsValid is the check that guards every future edit of the
// catalog files: ID parity between languages, matching placeholders and
// symbol-free spoken text.
func TestEmbeddedCatalogIsValid(t *testing.T) {
	c := load(t)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := c.Languages(); !slices.Equal(got, []string{"en", "de", "es", "fr", "pt-br"}) {
		t.Errorf("Languages = %v", got)
	}
	for _, id := range []string{"common.error", "common.busy", "common.expired", "common.cancelled",
		"common.invalid_input", "common.too_long", "common.unknown_command", "common.goodbye", "common.help",
		messages.FallbackID} {
		if !c.Has(id) {
			t.Errorf("missing seed entry %s", id)
		}
	}
}

func TestEveryMessageRenders(t *testing.T) {
	c := load(t)
	for _, id := range c.IDs() {
		// Arguments for every placeholder of the ID in any language or variant.
		args := map[string]string{}
		for _, lang := range c.Languages() {
			for _, v := range []messages.Variant{messages.Chat, messages.Voice} {
				tmpl, _ := c.Template(lang, id, v)
				for _, p := range messages.Placeholders(tmpl) {
					args[p] = "ARG_" + p
				}
			}
		}
		if err := c.CheckArgs(id, args); err != nil {
			t.Errorf("CheckArgs(%s): %v", id, err)
		}
		for _, lang := range c.Languages() {
			for _, v := range []messages.Variant{messages.Chat, messages.Voice} {
				t.Run(lang+"/"+id+"/"+v.String(), func(t *testing.T) {
					tmpl, _ := c.Template(lang, id, v)
					out := c.Render(lang, id, v, args)
					if strings.TrimSpace(out) == "" || strings.ContainsAny(out, "{}") {
						t.Errorf("rendered %q", out)
					}
					for _, p := range messages.Placeholders(tmpl) {
						if !strings.Contains(out, "ARG_"+p) {
							t.Errorf("argument %s not inserted: %q", p, out)
						}
					}
				})
			}
		}
	}
	if m := c.Missing(); len(m) != 0 {
		t.Errorf("missing ids: %v", m)
	}
}

func TestRenderFallbacks(t *testing.T) {
	c := load(t)
	args := map[string]string{"ref": "R7K2"}
	cases := []struct {
		name, locale, id string
		v                messages.Variant
		want             string
	}{
		{"english chat", "en", "common.error", messages.Chat, "Something went wrong on our side. Reference: R7K2."},
		{"english voice", "en", "common.error", messages.Voice, "Something went wrong on our side. Your reference is R7K2."},
		{"voice falls back to chat", "en", "common.goodbye", messages.Voice, "Goodbye."},
		{"spanish", "es", "common.error", messages.Chat, "Algo salió mal por nuestra parte. Referencia: R7K2."},
		{"region to language", "es-MX", "common.goodbye", messages.Chat, "Adiós."},
		{"underscore and case", "ES_mx", "common.goodbye", messages.Chat, "Adiós."},
		{"french", "fr-CA", "common.goodbye", messages.Chat, "Au revoir."},
		{"german", "de-AT", "common.goodbye", messages.Chat, "Auf Wiederhören."},
		{"brazilian portuguese", "pt-BR", "common.goodbye", messages.Chat, "Até logo."},
		{"portuguese to the regional catalog", "pt", "common.goodbye", messages.Chat, "Até logo."},
		{"unknown language to english", "ja-JP", "common.goodbye", messages.Chat, "Goodbye."},
		{"empty locale", "", "common.goodbye", messages.Chat, "Goodbye."},
		{"unknown id is generic", "es", "no.such.id", messages.Chat, "Lo sentimos, algo salió mal. Inténtalo de nuevo más tarde."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.Render(tc.locale, tc.id, tc.v, args); got != tc.want {
				t.Errorf("Render = %q, want %q", got, tc.want)
			}
		})
	}
	if got := c.Missing(); !slices.Equal(got, []string{"no.such.id"}) {
		t.Errorf("Missing = %v", got)
	}
}

func TestArgumentsAreNotReexpanded(t *testing.T) {
	c := load(t)
	got := c.Render("en", "common.error", messages.Chat, map[string]string{"ref": "{ref}{other}"})
	if got != "Something went wrong on our side. Reference: {ref}{other}." {
		t.Errorf("Render = %q", got)
	}
	if got := c.Render("en", "common.error", messages.Chat, nil); got != "Something went wrong on our side. Reference: ." {
		t.Errorf("missing arg rendered %q", got)
	}
}

func TestCheckArgs(t *testing.T) {
	c := load(t)
	if err := c.CheckArgs("common.error", map[string]string{"ref": "x"}); err != nil {
		t.Error(err)
	}
	if err := c.CheckArgs("common.error", nil); err == nil || !strings.Contains(err.Error(), "ref") {
		t.Errorf("err = %v", err)
	}
	if err := c.CheckArgs("no.such.id", nil); err == nil {
		t.Error("unknown id accepted")
	}
	if err := c.CheckArgs("common.goodbye", nil); err != nil {
		t.Error(err)
	}
}

// langBlock is a minimal language block for catalogs written in tests.
const langBlock = `language:
  name: "Test"
  voice: "Polly.Joanna"
  voice_language: "en-US"
  cancel: ["cancel"]
  agent: ["agent"]
  help: ["help"]
  switch: ["test"]
  keywords: {reset: ["reset"], unlock: ["unlock"], enroll: ["enroll"]}
`

func TestValidateCatchesProblems(t *testing.T) {
	en := langBlock + `common.fallback: {chat: "Sorry."}
a.one: {chat: "Hello {name}.", voice: "Hello {name}."}
a.two: {chat: "Two."}
`
	cases := []struct {
		name, es, want string
	}{
		{"missing id", `common.fallback: {chat: "x"}
a.one: {chat: "Hola {name}."}
`, "es: a.two is missing"},
		{"extra id", `common.fallback: {chat: "x"}
a.one: {chat: "Hola {name}."}
a.two: {chat: "Dos."}
a.three: {chat: "Tres."}
`, "a.three is not in en"},
		{"placeholder renamed", `common.fallback: {chat: "x"}
a.one: {chat: "Hola {nombre}."}
a.two: {chat: "Dos."}
`, "chat placeholders [nombre] differ"},
		{"symbol in voice", `common.fallback: {chat: "x"}
a.one: {chat: "Hola {name}.", voice: "Hola {name} <b>"}
a.two: {chat: "Dos."}
`, "spoken text contains"},
		{"symbol in chat without voice", `common.fallback: {chat: "x"}
a.one: {chat: "Hola {name}."}
a.two: {chat: "Pulsa #."}
`, "add a voice variant"},
		{"digits in voice", `common.fallback: {chat: "x"}
a.one: {chat: "Hola {name}.", voice: "Hola {name}, pulsa 1."}
a.two: {chat: "Dos."}
`, "unexpanded digit"},
		{"url in voice", `common.fallback: {chat: "x"}
a.one: {chat: "Hola {name}.", voice: "Hola {name}, visita www.example.com."}
a.two: {chat: "Dos."}
`, "a web address"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := messages.LoadFS(fstest.MapFS{
				"cat/en.yaml": {Data: []byte(en)},
				"cat/es.yaml": {Data: []byte(langBlock + tc.es)},
			}, "cat")
			if err != nil {
				t.Fatal(err)
			}
			err = c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestLoadRejectsBadFiles(t *testing.T) {
	cases := []struct{ name, en, want string }{
		{"unknown key", `a: {chat: "x", vocie: "y"}`, "vocie"},
		{"empty chat", `a: {voice: "y"}`, "empty chat"},
		{"unmatched brace", `a: {chat: "x {name"}`, "unmatched"},
		{"bad placeholder", `a: {chat: "x {Name}"}`, "bad placeholder"},
		{"stray close", `a: {chat: "x }"}`, "unmatched '}'"},
		{"not yaml", `a: [`, "en.yaml"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := messages.LoadFS(fstest.MapFS{"c/en.yaml": {Data: []byte(tc.en)}}, "c")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := messages.LoadFS(fstest.MapFS{"c/es.yaml": {Data: []byte(`a: {chat: "x"}`)}}, "c"); err == nil {
		t.Error("catalog without en accepted")
	}
}

func TestSpellDigits(t *testing.T) {
	cases := map[string]string{
		"1234":     "1, 2, 3, 4",
		"493 817":  "4, 9, 3, 8, 1, 7",
		"r7-k2":    "R, 7, K, 2",
		"":         "",
		"+1 (555)": "1, 5, 5, 5",
	}
	for in, want := range cases {
		t.Run(in, func(t *testing.T) {
			if got := messages.SpellDigits(in); got != want {
				t.Errorf("SpellDigits(%q) = %q, want %q", in, got, want)
			}
		})
	}
}

func TestPlaceholders(t *testing.T) {
	if got := messages.Placeholders("{b} and {a} and {b}"); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("Placeholders = %v", got)
	}
}

func BenchmarkRender(b *testing.B) {
	c, err := messages.Load()
	if err != nil {
		b.Fatal(err)
	}
	args := map[string]string{"ref": "R7K2-9QXM"}
	b.ReportAllocs()
	for b.Loop() {
		_ = c.Render("es-MX", "common.error", messages.Voice, args)
	}
}
