package app_test

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/resetbot/resetbot/app"
	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/identity/factor"
	"github.com/resetbot/resetbot/core/logging/loggingtest"
	"github.com/resetbot/resetbot/core/messages"
	"github.com/resetbot/resetbot/core/plugin"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/flows"
	"github.com/resetbot/resetbot/plugins"
)

// tokenFactor is a factor plug-in as docs/extending.md describes it: its own
// block (factors.token), validation and Open, in a package of its own. The
// test adds it with one registry line; no config, engine or flow file knows
// it.
type tokenFactor struct {
	// Shows is what the token displays (a real plug-in would ask its
	// validation server).
	Shows secret.String `yaml:"shows"`
}

func (c *tokenFactor) Validate(ch plugin.Checker, path string) {
	if c.Shows.Len() != 8 {
		ch.Errorf(path+".shows", "must be the 8 digits the token shows")
	}
}

func (c *tokenFactor) Group() identity.Group { return "token" }

func (c *tokenFactor) Open(context.Context, factor.Deps) (identity.Method, error) {
	return &tokenMethod{shows: c.Shows, used: map[string]bool{}}, nil
}

type tokenMethod struct {
	shows secret.String
	mu    sync.Mutex
	used  map[string]bool
}

func (*tokenMethod) Factor() identity.Factor     { return "token" }
func (*tokenMethod) Group() identity.Group       { return "token" }
func (*tokenMethod) Strength() identity.Strength { return identity.StrengthApp }
func (*tokenMethod) Has(_ context.Context, s identity.Subject) (bool, error) {
	return !s.Nobody(), nil
}
func (*tokenMethod) Challenge(context.Context, identity.Challenge) (identity.Prompt, error) {
	return identity.Prompt{MessageID: "token.prompt", Digits: 8}, nil
}
func (m *tokenMethod) Verify(_ context.Context, ch identity.Challenge, answer secret.String) (identity.Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ch.Subject.Nobody() || m.used[ch.Subject.Key] || !m.shows.Equal(answer) {
		return identity.Wrong, nil
	}
	m.used[ch.Subject.Key] = true
	return identity.Verified, nil
}

// TestFactorPluginIsOneRegistryLine configures a new factor through its own
// block and resets a password with it, end to end through the app.
func TestFactorPluginIsOneRegistryLine(t *testing.T) {
	reg := plugins.All()
	reg[plugin.Factor]["token"] = func() plugin.Config { return &tokenFactor{} } // the registry line

	yaml := `mode: demo
store: {type: memory}
notify: {outbox: true, sms: {provider: outbox}}
audit: {file: "AUDIT"}
factors:
  enabled: [token, sms, email]
  token: {shows: "48151623"}
directories:
  - {name: demo, type: memory}
`
	yaml = strings.Replace(yaml, "AUDIT", t.TempDir()+"/audit.jsonl", 1)
	cfg, probs := config.Parse([]byte(yaml), nil, reg)
	if probs.HasErrors() {
		t.Fatal(probs.Error())
	}
	// Its block is validated by the plug-in, with the path.
	_, bp := config.Parse([]byte(strings.Replace(yaml, `shows: "48151623"`, `shows: "123"`, 1)), nil, reg)
	if !hasProblem(bp, "factors.token.shows") {
		t.Errorf("the plug-in's own check did not run: %s", bp.Error())
	}

	log, buf := loggingtest.Capture(t)
	r := &rig{t: t, logs: buf, rec: &audit.Recorder{}}
	a, err := app.Build(context.Background(), cfg, app.Options{Floor: -1, Log: log, Audit: r.rec,
		Catalog: catalogWithToken(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	r.a = a

	r.expect(r.send("slack", "U1", start(flows.FlowReset)), "identify", "identify.prompt")
	rep := r.send("slack", "U1", text("amartin"))
	r.expect(rep, "verify_factor", "token.prompt") // the strongest is asked first
	r.secrets = append(r.secrets, "48151623")
	rep = r.send("slack", "U1", text("48151623"))
	if rep.State != "verify_factor" {
		t.Fatalf("after the token: %s %v", rep.State, ids(rep))
	}
	if hasChoice(rep, "sms") {
		rep = r.send("slack", "U1", choice("sms"))
	}
	rep = r.send("slack", "U1", text(r.code()))
	r.expect(rep, "new_password", "password.prompt")
	r.expect(r.send("slack", "U1", masked("Lantern-Violet-Ocean-7", "Lantern-Violet-Ocean-7")), "done", "")
	r.assertNoLeaks()
}

func hasProblem(ps config.Problems, path string) bool {
	for _, p := range ps {
		if p.Path == path && !p.Warning {
			return true
		}
	}
	return false
}

// catalogWithToken is the shipped catalog plus the token's two messages,
// as its catalog entries would add them.
func catalogWithToken(t *testing.T) *messages.Catalog {
	t.Helper()
	extra := map[string]string{
		"en": "factor.token:\n  chat: \"Code from my hardware token\"\n  voice: \"hardware token\"\n\ntoken.prompt:\n  chat: \"Press the button on your token and type the 8 digits.\"\n  voice: \"Enter the eight digits your token shows.\"\n",
	}
	fsys := fstest.MapFS{}
	for _, lang := range []string{"en"} {
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
