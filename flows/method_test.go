package flows_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/messages"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/flows"
)

// hwToken is a test-only factor: a hardware token showing 8-digit codes,
// plugged in exactly as docs/extending.md says — one type implementing
// identity.Method, one registry line, two catalog entries per language. No
// engine file and no flow table knows it.
type hwToken struct {
	mu     sync.Mutex
	tokens map[string]string // user key -> the code the token shows now
}

func (*hwToken) Factor() identity.Factor     { return "token" }
func (*hwToken) Group() identity.Group       { return "token" }
func (*hwToken) Strength() identity.Strength { return identity.StrengthApp }

func (t *hwToken) Has(_ context.Context, s identity.Subject) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.tokens[s.Key] != "", nil
}

func (*hwToken) Challenge(context.Context, identity.Challenge) (identity.Prompt, error) {
	return identity.Prompt{MessageID: "token.prompt", Digits: 8}, nil
}

func (t *hwToken) Verify(_ context.Context, ch identity.Challenge, answer secret.String) (identity.Result, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	want := t.tokens[ch.Subject.Key]
	if ch.Subject.Nobody() || want == "" || !secret.New(want).Equal(answer) {
		return identity.Wrong, nil
	}
	delete(t.tokens, ch.Subject.Key) // one code per press
	return identity.Verified, nil
}

// catalogWith returns the shipped catalog plus extra entries per language.
func catalogWith(t *testing.T, extra map[string]string) *messages.Catalog {
	t.Helper()
	fsys := fstest.MapFS{}
	for _, lang := range []string{"en", "es"} {
		b, err := os.ReadFile("../core/messages/catalog/" + lang + ".yaml")
		if err != nil {
			t.Fatal(err)
		}
		fsys["catalog/"+lang+".yaml"] = &fstest.MapFile{Data: append(b, []byte("\n"+extra[lang])...)}
	}
	c, err := messages.LoadFS(fsys, "catalog")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPluggedInMethodWorksInTheResetFlow(t *testing.T) {
	tok := &hwToken{tokens: map[string]string{"demo:" + alice: "48151623"}}
	cat := catalogWith(t, map[string]string{
		"en": "factor.token:\n  chat: \"Code from my hardware token\"\n\ntoken.prompt:\n  chat: \"Press the button on your token and type the 8 digits.\"\n",
		"es": "factor.token:\n  chat: \"Código de mi token físico\"\n\ntoken.prompt:\n  chat: \"Pulsa el botón de tu token y escribe los 8 dígitos.\"\n",
	})
	h := newHarness(t, func(d *flows.Deps) {
		// The registry line: one more method, nothing else changes.
		reg, err := identity.NewRegistry(append(d.Methods.Methods(), tok)...)
		if err != nil {
			t.Fatal(err)
		}
		d.Methods = reg
		d.Renderer = cat
	})
	h.send("slack", "U50", start(flows.FlowReset))
	r := h.send("slack", "U50", text("amartin"))
	if !hasChoice(r, "token") {
		t.Fatalf("token not offered: %v", r.Outputs)
	}
	// The token declared the strongest strength: phone and email alone no
	// longer reset an account that has one.
	// After the text message, the token is asked for at once.
	h.send("slack", "U50", choice("sms"))
	r = h.send("slack", "U50", text(h.code()))
	if r.Outputs[0].MessageID != "verify.need_strongest" || r.Last().MessageID != "token.prompt" || hasChoice(r, "email") {
		t.Fatalf("token's strength ignored: %s %v", r.State, r.Outputs)
	}
	h.send("slack", "U50", text("11111111"))
	h.secrets = append(h.secrets, "48151623")
	if r := h.send("slack", "U50", text("48151623")); r.State != "new_password" {
		t.Fatalf("with the token: %s", r.State)
	}
	if r := h.send("slack", "U50", masked("Lantern-Violet-Ocean-7", "Lantern-Violet-Ocean-7")); r.State != "done" {
		t.Fatalf("reset: %s", r.State)
	}
	h.secrets = append(h.secrets, "Lantern-Violet-Ocean-7")
	h.assertNoLeaks()
	h.golden("plugged_in_method")
}
