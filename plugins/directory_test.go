package plugins_test

import (
	"encoding/base64"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/directory/memory"
	"github.com/resetbot/resetbot/core/plugin"
	"github.com/resetbot/resetbot/plugins"
)

// TestDirectoryKeysReachPlugins is the proof that every key documented
// under a directory (and under a fan-out target's ldap or ad block) in
// example.yaml and demo.yaml reaches the plug-in that uses it: the file is
// loaded as serve loads it, each YAML leaf of each block is followed by its
// yaml tags into the plug-in's own decoded configuration, and the value
// found there must equal the value written. Nothing is copied on the way
// (the block is the plug-in's type), so what arrives here is what Open uses.
func TestDirectoryKeysReachPlugins(t *testing.T) {
	for _, f := range []struct {
		name string
		data []byte
		env  []string
	}{
		{"example.yaml", config.ExampleYAML(), exampleEnv(t)},
		{"demo.yaml", config.DemoYAML(), nil},
	} {
		t.Run(f.name, func(t *testing.T) {
			cfg, probs := config.Parse(f.data, f.env, plugins.All())
			for _, p := range probs.Errors() {
				if strings.HasPrefix(p.Path, "directories") || strings.HasPrefix(p.Path, "fanout") {
					t.Errorf("%s: %s", f.name, p)
				}
			}
			if cfg == nil {
				t.Fatalf("%s does not load:\n%s", f.name, probs.Error())
			}
			blocks := blocksOf(t, f.data)
			checked := map[string]int{}
			for _, b := range blocks {
				pc := pluginOf(cfg, b.section, b.index, b.typ)
				if pc == nil {
					t.Errorf("%s: no plug-in configuration decoded", b.path)
					continue
				}
				if _, ok := pc.(directory.Opener); !ok {
					t.Errorf("%s: %T cannot open a directory", b.path, pc)
				}
				for key, node := range leaves(b.node, "") {
					full := b.path + "." + key
					if overridden(f.env, full) {
						continue
					}
					got, ok := byYAMLPath(reflect.ValueOf(pc).Elem(), key)
					if !ok {
						t.Errorf("%s: documented, but %T has no such setting", full, pc)
						continue
					}
					want := reflect.New(got.Type())
					if err := node.Decode(want.Interface()); err != nil {
						t.Errorf("%s: %v", full, err)
						continue
					}
					if !reflect.DeepEqual(want.Elem().Interface(), got.Interface()) {
						t.Errorf("%s: the file says %v, the plug-in got %v", full, want.Elem(), got)
					}
					checked[b.typ]++
				}
			}
			if f.name == "example.yaml" && (checked["ldap"] < 40 || checked["ad"] < 40) {
				t.Errorf("only %v keys compared: the walk is broken", checked)
			}
			if f.name == "demo.yaml" {
				if _, ok := cfg.Directories[0].Plugin.(*memory.Config); !ok {
					t.Errorf("demo directory = %T, want the memory plug-in", cfg.Directories[0].Plugin)
				}
			}
		})
	}
}

// TestDirectoryPluginSettingsDocumented: every setting of the ldap and ad
// plug-ins (and of their fan-out blocks) is shown in example.yaml, so the
// walk above covers them all.
func TestDirectoryPluginSettingsDocumented(t *testing.T) {
	reg := plugins.All()
	for _, b := range blocksOf(t, config.ExampleYAML()) {
		kind := plugin.Directory
		if b.section == "fanout.targets" {
			kind = plugin.FanoutTarget
		}
		pc, ok := reg.New(kind, b.typ)
		if !ok {
			t.Fatalf("%s: type %s is not registered", b.path, b.typ)
		}
		shown := map[string]bool{}
		for key := range leaves(b.node, "") {
			shown[key] = true
		}
		for _, key := range settingPaths(reflect.TypeOf(pc).Elem(), "") {
			if !shown[key] {
				t.Errorf("example.yaml does not show %s.%s", b.path, key)
			}
		}
	}
}

// block is one plug-in block in a file: directories[i].<type> or
// fanout.targets[i].<type>.
type block struct {
	section, typ, path string
	index              int
	node               *yaml.Node
}

// blocksOf finds the plug-in blocks of directories and of fan-out targets
// of type ldap or ad.
func blocksOf(t *testing.T, data []byte) []block {
	t.Helper()
	var doc struct {
		Directories []map[string]yaml.Node `yaml:"directories"`
		Fanout      struct {
			Targets []map[string]yaml.Node `yaml:"targets"`
		} `yaml:"fanout"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var out []block
	add := func(section string, items []map[string]yaml.Node, only map[string]bool) {
		for i, item := range items {
			tn := item["type"]
			typ := tn.Value
			if only != nil && !only[typ] {
				continue
			}
			n, ok := item[typ]
			if !ok {
				n = yaml.Node{Kind: yaml.MappingNode}
			}
			out = append(out, block{section: section, typ: typ, index: i,
				path: fmt.Sprintf("%s[%d].%s", section, i, typ), node: &n})
		}
	}
	add("directories", doc.Directories, nil)
	add("fanout.targets", doc.Fanout.Targets, map[string]bool{"ldap": true, "ad": true})
	return out
}

// pluginOf returns the decoded plug-in configuration of a block.
func pluginOf(cfg *config.Config, section string, i int, typ string) plugin.Config {
	if section == "directories" {
		if i < len(cfg.Directories) {
			return cfg.Directories[i].Plugin
		}
		return nil
	}
	if i < len(cfg.Fanout.Targets) {
		return cfg.Fanout.Targets[i].Plugins[typ]
	}
	return nil
}

// leaves returns the scalar and list leaves below mapping n by dotted path.
func leaves(n *yaml.Node, prefix string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := prefix+n.Content[i].Value, n.Content[i+1]
		if v.Kind == yaml.MappingNode {
			for kk, vv := range leaves(v, k+".") {
				out[kk] = vv
			}
			continue
		}
		out[k] = v
	}
	return out
}

// overridden reports whether env sets path (RESETBOT_DIRECTORIES__0__LDAP__BIND_PASSWORD
// sets directories[0].ldap.bind_password): the file's value is replaced.
func overridden(env []string, path string) bool {
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		k = strings.TrimSuffix(strings.TrimPrefix(k, config.EnvPrefix), "_FILE")
		if envPath(strings.ToLower(k)) == path {
			return true
		}
	}
	return false
}

// envPath turns directories__0__ldap__bind_password into
// directories[0].ldap.bind_password.
func envPath(k string) string {
	var b strings.Builder
	for i, seg := range strings.Split(k, "__") {
		switch {
		case seg != "" && strings.Trim(seg, "0123456789") == "":
			b.WriteString("[" + seg + "]")
		case i > 0:
			b.WriteString("." + seg)
		default:
			b.WriteString(seg)
		}
	}
	return b.String()
}

// byYAMLPath follows a dotted YAML path through v's fields (inline
// embedded structs included).
func byYAMLPath(v reflect.Value, path string) (reflect.Value, bool) {
	head, rest, nested := strings.Cut(path, ".")
	for i := range v.NumField() {
		f := v.Type().Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if strings.Contains(opts, "inline") {
			if got, ok := byYAMLPath(v.Field(i), path); ok {
				return got, true
			}
			continue
		}
		if name != head || name == "-" || !f.IsExported() {
			continue
		}
		if !nested {
			return v.Field(i), true
		}
		if v.Field(i).Kind() != reflect.Struct {
			return reflect.Value{}, false
		}
		return byYAMLPath(v.Field(i), rest)
	}
	return reflect.Value{}, false
}

// settingPaths lists the leaf settings of struct t by dotted YAML path.
func settingPaths(t reflect.Type, prefix string) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case name == "-" || !f.IsExported():
		case strings.Contains(opts, "inline"):
			out = append(out, settingPaths(f.Type, prefix)...)
		case f.Type.Kind() == reflect.Struct && f.Type.PkgPath() != "github.com/resetbot/resetbot/core/secret":
			out = append(out, settingPaths(f.Type, prefix+name+".")...)
		default:
			out = append(out, prefix+name)
		}
	}
	return out
}

// exampleEnv supplies the secrets and files the example leaves to the
// environment, as an operator would.
func exampleEnv(t *testing.T) []string {
	kt := t.TempDir() + "/keytab"
	if err := os.WriteFile(kt, []byte{5, 2}, 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{
		"RESETBOT_STORE__REDIS__PASSWORD=x",
		"RESETBOT_KEYS__ENCRYPTION=k1:" + base64.StdEncoding.EncodeToString(make([]byte, 32)),
		"RESETBOT_KEYS__HMAC=" + strings.Repeat("h", 32),
		"RESETBOT_DIRECTORIES__0__LDAP__BIND_PASSWORD=x",
		"RESETBOT_DIRECTORIES__1__AD__BIND_PASSWORD_FILE=" + kt,
		"RESETBOT_NOTIFY__EMAIL__PASSWORD=x",
		"RESETBOT_CHANNELS__SLACK__SIGNING_SECRET=x",
		"RESETBOT_CHANNELS__SLACK__BOT_TOKEN=x",
		"RESETBOT_CHANNELS__TWILIO__AUTH_TOKEN=x",
		"RESETBOT_FANOUT__TARGETS__0__LDAP__BIND_PASSWORD=x",
		"RESETBOT_FANOUT__TARGETS__1__AD__BIND_PASSWORD=x",
		"RESETBOT_FANOUT__TARGETS__2__WEBHOOK__SECRET=" + strings.Repeat("w", 32),
		"RESETBOT_FANOUT__TARGETS__3__KERBEROS__KEYTAB=" + kt,
		"RESETBOT_FANOUT__TARGETS__4__GOOGLE_WORKSPACE__KEY_FILE=" + kt,
	}
}
