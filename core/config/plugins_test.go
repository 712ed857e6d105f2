package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/resetbot/resetbot/core/plugin"
	"github.com/resetbot/resetbot/core/secret"
)

// fakeDir is a directory plug-in's own settings, as a plug-in package
// would declare them.
type fakeDir struct {
	URL      string        `yaml:"url"`
	Password secret.String `yaml:"password"`
	Pool     int           `yaml:"pool"`
}

func (f *fakeDir) Validate(c plugin.Checker, path string) {
	if f.URL == "" {
		c.Errorf(path+".url", "is required")
	}
	if c.Production() && f.Pool > 10 {
		c.Warnf(path+".pool", "is large")
	}
}

type fakeSender struct {
	Host string `yaml:"host"`
}

func (f *fakeSender) Validate(c plugin.Checker, path string) {
	if f.Host == "" {
		c.Errorf(path+".host", "is required")
	}
}

// fakeRoot has a typed slot (a list of directories) and an inline map.
type fakeRoot struct {
	Dirs   []fakeDirEntry `yaml:"dirs"`
	Notify fakeNotify     `yaml:"notify"`
}

type fakeDirEntry struct {
	Name   string        `yaml:"name"`
	Type   string        `yaml:"type"`
	Plugin plugin.Config `yaml:"-" plugin:"directory"`
}

type fakeNotify struct {
	Outbox  bool                     `yaml:"outbox"`
	Plugins map[string]plugin.Config `yaml:",inline" plugin:"notifier"`
}

func fakeRegistry() plugin.Registry {
	return plugin.Registry{
		plugin.Directory: {
			"fake":  func() plugin.Config { return &fakeDir{Pool: 4} },
			"other": func() plugin.Config { return &fakeDir{} },
		},
		plugin.Notifier: {"mail": func() plugin.Config { return &fakeSender{} }},
	}
}

// decodeFake runs the decoder and the plug-in validation on doc.
func decodeFake(t *testing.T, doc string, env []string) (*fakeRoot, Problems) {
	t.Helper()
	r := newReport()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
		t.Fatal(err)
	}
	root := n.Content[0]
	l := &loader{reg: fakeRegistry(), readFile: func(string) ([]byte, error) { return []byte("from-file\n"), nil }}
	typ := reflect.TypeFor[fakeRoot]()
	for _, kv := range env {
		k, val, _ := strings.Cut(kv, "=")
		segs := strings.Split(strings.ToLower(strings.TrimPrefix(k, EnvPrefix)), "__")
		if _, _, err := resolve(l.reg, typ, segs); err != nil {
			r.add(k, 0, false, err.Error())
			continue
		}
		if err := setNode(l.reg, root, typ, segs, val); err != nil {
			t.Fatal(err)
		}
	}
	var out fakeRoot
	(&decoder{r: r, reg: l.reg}).decode(root, reflect.ValueOf(&out).Elem(), "")
	v := &validator{r: r, mode: ModeProduction}
	v.validatePlugins(reflect.ValueOf(&out).Elem(), "")
	return &out, r.probs
}

func TestPluginBlockDecodesIntoItsOwnType(t *testing.T) {
	doc := `dirs:
  - name: a
    type: fake
    fake:
      url: ldaps://x
      password: hunter2
  - name: b
    type: other
notify:
  outbox: true
  mail:
    host: smtp.example
`
	cfg, probs := decodeFake(t, doc, nil)
	got, ok := cfg.Dirs[0].Plugin.(*fakeDir)
	if !ok || got.URL != "ldaps://x" || got.Password.Reveal() != "hunter2" || got.Pool != 4 {
		t.Fatalf("dirs[0] = %#v, want the fake block over its defaults", cfg.Dirs[0].Plugin)
	}
	// A type without a block gets its plug-in's defaults, and validates.
	if _, ok := cfg.Dirs[1].Plugin.(*fakeDir); !ok {
		t.Fatalf("dirs[1] has no defaults: %#v", cfg.Dirs[1].Plugin)
	}
	if m, ok := cfg.Notify.Plugins["mail"].(*fakeSender); !ok || m.Host != "smtp.example" || !cfg.Notify.Outbox {
		t.Fatalf("notify = %#v", cfg.Notify)
	}
	want := []string{"dirs[1].other.url: is required"}
	if g := problemLines(probs); !slices.Equal(g, want) {
		t.Errorf("problems = %q, want %q", g, want)
	}
}

func TestPluginBlockProblemsHavePathsAndLines(t *testing.T) {
	doc := `dirs:
  - name: a
    type: fake
    fake:
      url: ldaps://x
      pool: many
      colour: red
    other:
      url: y
  - name: b
    type: nope
notify:
  mial:
    host: x
`
	_, probs := decodeFake(t, doc, nil)
	want := map[string]int{
		"dirs[0].fake.pool":   6,
		"dirs[0].fake.colour": 7,
		"dirs[0].other":       8,
		"dirs[1].type":        11,
		"notify.mial":         13,
	}
	for _, p := range probs {
		if line, ok := want[p.Path]; !ok || line != p.Line {
			t.Errorf("unexpected problem %s (line %d)", p.String(), p.Line)
		}
		delete(want, p.Path)
	}
	for path := range want {
		t.Errorf("no problem reported at %s:\n%s", path, probs.Error())
	}
}

func TestPluginBlockEnvironmentOverride(t *testing.T) {
	doc := "dirs:\n  - name: a\n    type: fake\n"
	cfg, probs := decodeFake(t, doc, []string{"RESETBOT_DIRS__0__FAKE__URL=ldaps://env",
		"RESETBOT_NOTIFY__MAIL__HOST=smtp.env", "RESETBOT_DIRS__0__FAKE__NOPE=1"})
	if d := cfg.Dirs[0].Plugin.(*fakeDir); d.URL != "ldaps://env" {
		t.Errorf("url = %q", d.URL)
	}
	if m, ok := cfg.Notify.Plugins["mail"].(*fakeSender); !ok || m.Host != "smtp.env" {
		t.Errorf("notify = %#v", cfg.Notify.Plugins)
	}
	if len(probs) != 1 || probs[0].Message != `unknown setting: no key "dirs[0].fake.nope"` {
		t.Errorf("problems = %s", probs.Error())
	}
}

func TestPluginBlockInSummaryIsRedacted(t *testing.T) {
	cfg, _ := decodeFake(t, "dirs:\n  - name: a\n    type: fake\n    fake: {url: 'ldaps://u:pw@x', password: hunter2}\n", nil)
	var n yaml.Node
	if err := n.Encode(cfg); err != nil {
		t.Fatal(err)
	}
	if err := encodePlugins(&n, reflect.ValueOf(cfg).Elem()); err != nil {
		t.Fatal(err)
	}
	markSecrets(&n, reflect.ValueOf(cfg).Elem())
	out, err := yaml.Marshal(&n)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if strings.Contains(s, "hunter2") || strings.Contains(s, ":pw@") || !strings.Contains(s, "fake:") || !strings.Contains(s, secret.Redacted) {
		t.Errorf("summary:\n%s", s)
	}
}

func problemLines(ps Problems) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Path+": "+p.Message)
	}
	return out
}
