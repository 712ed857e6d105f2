package config_test

import (
	"encoding/base64"
	"os"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/plugin"
	"github.com/resetbot/resetbot/plugins"
)

// TestExampleIsValid loads the example with its secrets from the environment,
// as an operator would.
func TestExampleIsValid(t *testing.T) {
	env := []string{
		"RESETBOT_STORE__REDIS__PASSWORD=x",
		"RESETBOT_KEYS__ENCRYPTION=k1:" + base64.StdEncoding.EncodeToString(make([]byte, 32)),
		"RESETBOT_KEYS__HMAC=" + strings.Repeat("h", 32),
		"RESETBOT_DIRECTORIES__0__LDAP__BIND_PASSWORD=x",
		"RESETBOT_DIRECTORIES__1__AD__BIND_PASSWORD=x",
		"RESETBOT_NOTIFY__EMAIL__PASSWORD=x",
		"RESETBOT_CHANNELS__SLACK__SIGNING_SECRET=x",
		"RESETBOT_CHANNELS__SLACK__BOT_TOKEN=x",
		"RESETBOT_CHANNELS__TWILIO__AUTH_TOKEN=x",
		"RESETBOT_FANOUT__TARGETS__0__LDAP__BIND_PASSWORD=x",
		"RESETBOT_FANOUT__TARGETS__1__AD__BIND_PASSWORD=x",
		"RESETBOT_FANOUT__TARGETS__2__WEBHOOK__SECRET=" + strings.Repeat("w", 32),
		"RESETBOT_FANOUT__TARGETS__3__KERBEROS__KEYTAB=" + keytab(t),
		"RESETBOT_FANOUT__TARGETS__4__GOOGLE_WORKSPACE__KEY_FILE=" + keytab(t),
	}
	_, probs := config.Parse(config.ExampleYAML(), env, plugins.All())
	if len(probs) != 0 {
		t.Fatalf("example has problems:\n%s", probs.Error())
	}
}

// TestExampleIsComplete fails when a setting is added to Config but not
// documented in example.yaml.
func TestExampleIsComplete(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal(config.ExampleYAML(), &doc); err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := strings.TrimPrefix(path+"."+n.Content[i].Value, ".")
				have[p] = true
				walk(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, path+"[]")
			}
		}
	}
	walk(doc.Content[0], "")
	// store holds the block of the one type selected: example.yaml shows
	// redis, and bolt in a comment (plugins/config_test.go loads it).
	for _, p := range settingPaths(reflect.TypeFor[config.Config](), "") {
		if !have[p] && !strings.HasPrefix(p, "factors.require.") && !strings.HasPrefix(p, "store.bolt") {
			t.Errorf("example.yaml does not show %s", p)
		}
	}
}

// settingPaths lists every setting of t; list elements are written "[]".
func settingPaths(t reflect.Type, prefix string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if kind := plugin.Kind(f.Tag.Get("plugin")); kind != "" {
			out = append(out, pluginPaths(kind, prefix)...)
			continue
		}
		if name == "-" || !f.IsExported() {
			continue
		}
		if strings.Contains(opts, "inline") {
			out = append(out, settingPaths(f.Type, prefix)...)
			continue
		}
		p := strings.TrimPrefix(prefix+"."+name, ".")
		out = append(out, p)
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Struct && ft != reflect.TypeFor[config.Config]() && ft.NumField() > 0 && !isSecret(ft):
			out = append(out, settingPaths(ft, p)...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			out = append(out, settingPaths(ft.Elem(), p+"[]")...)
		}
	}
	return out
}

// pluginPaths lists the settings of every registered plug-in of kind, each
// under its type's key below prefix. A plug-in without settings of its own
// (the sms factor) needs no block.
func pluginPaths(kind plugin.Kind, prefix string) []string {
	var out []string
	reg := plugins.All()
	for _, typ := range reg.Types(kind) {
		cfg, _ := reg.New(kind, typ)
		p := strings.TrimPrefix(prefix+"."+typ, ".")
		if reflect.TypeOf(cfg).Elem().Kind() != reflect.Struct {
			out = append(out, p) // a single value (notify.outbox: true)
			continue
		}
		below := settingPaths(reflect.TypeOf(cfg), p)
		if len(below) > 0 {
			out = append(append(out, p), below...)
		}
	}
	return out
}

func isSecret(t reflect.Type) bool { return t.PkgPath() == "github.com/resetbot/resetbot/core/secret" }

// keytab is an existing file standing in for the example's keytab.
func keytab(t *testing.T) string {
	p := t.TempDir() + "/resetbot.keytab"
	if err := os.WriteFile(p, []byte{5, 2}, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
