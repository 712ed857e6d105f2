package plugins_test

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/core/notify/email"
	"github.com/resetbot/resetbot/core/notify/outbox"
	"github.com/resetbot/resetbot/core/store/redis"
	"github.com/resetbot/resetbot/plugins"
)

// pluginSections are the sections whose blocks belong to store and
// notifier plug-ins; their own settings (store.type, notify.sms) stay in
// core/config.
var pluginSections = []string{"store", "notify"}

// TestDocumentedKeysReachTheirPlugin walks every leaf under store.* and
// notify.* in example.yaml and demo.yaml and proves it is decoded, with
// its value, into the plug-in's own configuration struct: the path is
// resolved in the loaded Config by yaml tag, through the plug-in block, and
// the value found there equals the YAML value decoded on its own.
func TestDocumentedKeysReachTheirPlugin(t *testing.T) {
	for name, doc := range map[string][]byte{"example.yaml": config.ExampleYAML(), "demo.yaml": config.DemoYAML()} {
		t.Run(name, func(t *testing.T) {
			// Problems (secrets the example leaves to the environment) do
			// not matter here: the values are decoded regardless.
			cfg, _ := config.Parse(doc, nil, plugins.All())
			if cfg == nil {
				t.Fatal("not parsed")
			}
			var root yaml.Node
			if err := yaml.Unmarshal(doc, &root); err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, leaf := range leaves(root.Content[0], nil) {
				if !slices.Contains(pluginSections, leaf.path[0]) {
					continue
				}
				n++
				got, viaPlugin, err := resolve(reflect.ValueOf(cfg).Elem(), leaf.path)
				p := strings.Join(leaf.path, ".")
				if err != "" {
					t.Errorf("%s: %s", p, err)
					continue
				}
				if !viaPlugin && !ownSetting(leaf.path) {
					t.Errorf("%s is decoded into core/config, not into its plug-in", p)
				}
				want := reflect.New(got.Type())
				if err := leaf.node.Decode(want.Interface()); err != nil {
					t.Errorf("%s: %v", p, err)
					continue
				}
				if !reflect.DeepEqual(got.Interface(), want.Elem().Interface()) {
					t.Errorf("%s: the file says %v, the plug-in has %v", p, want.Elem(), got)
				}
			}
			if n == 0 {
				t.Fatal("no store or notify setting found")
			}
		})
	}
}

// ownSetting reports whether path is a setting core/config keeps.
func ownSetting(path []string) bool {
	p := strings.Join(path, ".")
	return p == "store.type" || strings.HasPrefix(p, "notify.sms.")
}

// TestDocumentedPluginsShowEverySetting: every setting of a plug-in block
// that example.yaml shows is documented there (a new field in the plug-in's
// struct needs a line in the example).
func TestDocumentedPluginsShowEverySetting(t *testing.T) {
	var root yaml.Node
	if err := yaml.Unmarshal(config.ExampleYAML(), &root); err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, l := range leaves(root.Content[0], nil) {
		have[strings.Join(l.path, ".")] = true
	}
	for block, typ := range map[string]reflect.Type{
		"store.redis":  reflect.TypeFor[redis.Config](),
		"notify.email": reflect.TypeFor[email.Config](),
	} {
		for i := range typ.NumField() {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("yaml"), ",")
			if name != "-" && name != "" && !have[block+"."+name] {
				t.Errorf("example.yaml does not show %s.%s", block, name)
			}
		}
	}
	if !have["notify.outbox"] {
		t.Error("example.yaml does not show notify.outbox")
	}
}

// TestPluginSecretsFromEnvironment: secrets of plug-in blocks are set from
// RESETBOT_* variables and from *_FILE files, into the plug-in's struct.
func TestPluginSecretsFromEnvironment(t *testing.T) {
	pwFile := filepath.Join(t.TempDir(), "redis-password")
	if err := os.WriteFile(pwFile, []byte("redis-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"RESETBOT_STORE__REDIS__PASSWORD_FILE=" + pwFile,
		"RESETBOT_STORE__REDIS__SENTINEL_PASSWORD=sentinel-from-env",
		"RESETBOT_STORE__REDIS__POOL_SIZE=12",
		"RESETBOT_NOTIFY__EMAIL__PASSWORD=smtp-from-env",
		"RESETBOT_NOTIFY__OUTBOX=false",
		"RESETBOT_CHANNELS__TWILIO__AUTH_TOKEN=x",
	}
	cfg, probs := config.Parse(config.ExampleYAML(), env, plugins.All())
	for _, p := range probs.Errors() {
		if strings.HasPrefix(p.Path, "store.") || strings.HasPrefix(p.Path, "notify.") || strings.HasPrefix(p.Path, "RESETBOT_") {
			t.Errorf("problem %s", p)
		}
	}
	r, ok := cfg.Store.Plugin.(*redis.Config)
	if !ok || r.Password.Reveal() != "redis-from-file" || r.SentinelPassword.Reveal() != "sentinel-from-env" || r.PoolSize != 12 {
		t.Fatalf("store.redis = %#v", cfg.Store.Plugin)
	}
	e, ok := cfg.Notify.Plugins["email"].(*email.Config)
	if !ok || e.Password.Reveal() != "smtp-from-env" || e.Host != "smtp.corp.example" {
		t.Fatalf("notify.email = %#v", cfg.Notify.Plugins["email"])
	}
	if o, ok := cfg.Notify.Plugins["outbox"].(*outbox.Config); !ok || bool(*o) {
		t.Fatalf("notify.outbox = %#v", cfg.Notify.Plugins["outbox"])
	}
	// The same secret twice, and an unknown key of a plug-in block, are
	// refused by name.
	_, probs = config.Parse(config.ExampleYAML(), []string{"RESETBOT_STORE__REDIS__PASSWORD=a",
		"RESETBOT_STORE__REDIS__PASSWORD_FILE=" + pwFile, "RESETBOT_NOTIFY__EMAIL__PASWORD=x"}, plugins.All())
	msgs := probs.Error()
	if !strings.Contains(msgs, "both RESETBOT_STORE__REDIS__PASSWORD and RESETBOT_STORE__REDIS__PASSWORD_FILE are set") ||
		!strings.Contains(msgs, `no key "notify.email.pasword"`) {
		t.Errorf("problems:\n%s", msgs)
	}
	// A block can be created from the environment alone.
	demo, probs := config.Parse(config.DemoYAML(), []string{"RESETBOT_NOTIFY__EMAIL__HOST=smtp.env.example",
		"RESETBOT_NOTIFY__EMAIL__FROM=bot@env.example", "RESETBOT_NOTIFY__OUTBOX=false"}, plugins.All())
	if probs.HasErrors() {
		t.Fatalf("demo with email from the environment:\n%s", probs.Error())
	}
	if e, ok := demo.Notify.Plugins["email"].(*email.Config); !ok || e.Host != "smtp.env.example" || e.Port != 587 ||
		!demo.Notify.Delivers(notify.ChannelEmail) || demo.Notify.Delivers(notify.ChannelSMS) {
		t.Fatalf("notify = %#v", demo.Notify.Plugins)
	}
}

// TestStoreAndNotifyProblemsHavePathsAndLines: the plug-ins' own checks come
// out of the configuration load with the setting's path and file line.
func TestStoreAndNotifyProblemsHavePathsAndLines(t *testing.T) {
	doc := `mode: demo
store:
  type: redis
  redis:
    addrs: ["r:6379"]
    ca_file: /etc/hosts
    bolt: {}
notify:
  outbox: true
  email:
    host: smtp.example
    from: nobody
`
	_, probs := config.Parse([]byte(doc), nil, plugins.All())
	want := map[string]int{
		"store.redis.ca_file": 6, "store.redis.bolt": 7, "notify.email.from": 12,
		"notify.outbox": 9, // delivers e-mail as notify.email does
	}
	for _, p := range probs.Errors() {
		if line, ok := want[p.Path]; ok {
			if p.Line != line {
				t.Errorf("%s at line %d, want %d", p, p.Line, line)
			}
			delete(want, p.Path)
		}
	}
	for p := range want {
		t.Errorf("no error at %s:\n%s", p, probs.Error())
	}
}

type leaf struct {
	path []string
	node *yaml.Node
}

// leaves lists the scalar and list-of-scalar values under n with their
// key paths.
func leaves(n *yaml.Node, path []string) []leaf {
	switch n.Kind {
	case yaml.MappingNode:
		var out []leaf
		for i := 0; i+1 < len(n.Content); i += 2 {
			out = append(out, leaves(n.Content[i+1], append(slices.Clone(path), n.Content[i].Value))...)
		}
		return out
	case yaml.SequenceNode:
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return nil // lists of blocks are not under store or notify
			}
		}
	}
	return []leaf{{path: path, node: n}}
}

// resolve follows path through v by yaml tag, into plug-in blocks (a
// struct's plug-in field named by its type, or an entry of an inline plug-in
// map), and reports whether it went through one.
func resolve(v reflect.Value, path []string) (reflect.Value, bool, string) {
	via := false
	for _, seg := range path {
		for v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return v, via, "nil block on the way to " + seg
			}
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct {
			return v, via, "no block holds " + seg
		}
		next, ok := field(v, seg)
		if !ok {
			return v, via, "no setting " + seg + " in " + v.Type().String()
		}
		v = next
		if v.Kind() == reflect.Interface { // a plug-in block: *T, its own type
			if v.IsNil() {
				return v, via, "empty plug-in block " + seg
			}
			via, v = true, v.Elem().Elem()
		}
	}
	return v, via, ""
}

// field returns the setting seg of struct v: a field by yaml tag, the
// plug-in slot when seg is the struct's type, or an entry of its inline
// plug-in map.
func field(v reflect.Value, seg string) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case f.Tag.Get("plugin") != "" && name == "-":
			if tf := v.FieldByName("Type"); tf.IsValid() && tf.String() == seg {
				return v.Field(i), true
			}
		case f.Tag.Get("plugin") != "" && strings.Contains(opts, "inline"):
			if e := v.Field(i).MapIndex(reflect.ValueOf(seg)); e.IsValid() {
				return e, true
			}
		case name == seg:
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}
