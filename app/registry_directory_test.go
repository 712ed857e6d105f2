package app

import (
	"encoding/base64"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/plugins"
)

// backendPath renames the example keys whose backend field lives elsewhere
// (the LDAP backend groups the disabled marker under attributes).
var backendPath = map[string]map[string]string{
	"ldap": {"disabled_attribute": "attributes.disabled.attr", "disabled_value": "attributes.disabled.value"},
	"ad":   {},
}

// refusedKeys are shown in the example but have no backend field because
// config validation refuses every value but the zero one
// (TestADAllowPlainRefused in core/config).
var refusedKeys = map[string]map[string]bool{"ldap": {}, "ad": {"allow_plain": true}}

// TestDirectoryConfigsComplete walks the ldap and ad blocks of the
// directories in example.yaml and proves that each key shown reaches the
// backend's Config: every field of the config block is set to a distinct
// non-zero value, mapped by ldapConfig/adConfig, and read back under the
// key's YAML path in the backend Config.
func TestDirectoryConfigsComplete(t *testing.T) {
	blocks := exampleDirectoryKeys(t)
	for _, typ := range []string{"ldap", "ad"} {
		if len(blocks[typ]) < 15 {
			t.Fatalf("example.yaml shows %d keys for %s; the walk is broken", len(blocks[typ]), typ)
		}
		var in, out reflect.Value
		switch typ {
		case "ldap":
			c := config.LDAPConfig{}
			fill(reflect.ValueOf(&c).Elem(), new(int))
			in, out = reflect.ValueOf(c), reflect.ValueOf(ldapConfig(&c))
		case "ad":
			c := config.ADConfig{}
			fill(reflect.ValueOf(&c).Elem(), new(int))
			in, out = reflect.ValueOf(c), reflect.ValueOf(adConfig("corp", &c))
		}
		for _, key := range blocks[typ] {
			src, ok := byYAMLPath(in, key)
			if !ok {
				t.Errorf("%s.%s: shown in example.yaml but not a config setting", typ, key)
				continue
			}
			if refusedKeys[typ][key] {
				continue
			}
			dstKey := key
			if k, ok := backendPath[typ][key]; ok {
				dstKey = k
			}
			dst, ok := byYAMLPath(out, dstKey)
			if !ok {
				t.Errorf("%s.%s: no backend field %q; the setting is dropped", typ, key, dstKey)
				continue
			}
			if !reflect.DeepEqual(src.Interface(), dst.Interface()) {
				t.Errorf("%s.%s = %v reaches the backend as %v", typ, key, src, dst)
			}
		}
	}
}

// TestDirectoryConfigsFromExample decodes example.yaml as serve does, maps
// its ldap and ad directories and compares every scalar key the example
// writes with the backend's value.
func TestDirectoryConfigsFromExample(t *testing.T) {
	cfg, probs := config.Parse(config.ExampleYAML(), exampleEnv(t), plugins.All())
	if len(probs) != 0 {
		t.Fatalf("example: %s", probs.Error())
	}
	written := exampleDirectoryValues(t)
	for _, d := range cfg.Directories {
		var out reflect.Value
		switch d.Type {
		case "ldap":
			out = reflect.ValueOf(ldapConfig(d.LDAP))
		case "ad":
			out = reflect.ValueOf(adConfig(d.Name, d.AD))
		default:
			continue
		}
		checked := 0
		for key, want := range written[d.Type] {
			if refusedKeys[d.Type][key] || key == "bind_password" {
				continue
			}
			dstKey := key
			if k, ok := backendPath[d.Type][key]; ok {
				dstKey = k
			}
			got, ok := byYAMLPath(out, dstKey)
			if !ok {
				t.Errorf("%s.%s: no backend field", d.Type, key)
				continue
			}
			checked++
			if s := scalar(got); s != want {
				t.Errorf("%s.%s: example says %q, the backend gets %q", d.Type, key, want, s)
			}
		}
		if checked < 15 {
			t.Errorf("%s: only %d keys compared", d.Type, checked)
		}
	}
}

// exampleDirectoryKeys returns, per block type, the leaf keys the
// example's directories show (attributes.login for nested ones).
func exampleDirectoryKeys(t *testing.T) map[string][]string {
	out := map[string][]string{}
	for typ, kv := range exampleDirectoryValues(t) {
		for k := range kv {
			out[typ] = append(out[typ], k)
		}
	}
	return out
}

// exampleDirectoryValues returns, per block type, each leaf key of the
// example's directories with its value as written (lists joined by ",").
func exampleDirectoryValues(t *testing.T) map[string]map[string]string {
	var doc struct {
		Directories []map[string]yaml.Node `yaml:"directories"`
	}
	if err := yaml.Unmarshal(config.ExampleYAML(), &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]string{}
	var walk func(typ, prefix string, n *yaml.Node)
	walk = func(typ, prefix string, n *yaml.Node) {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := prefix+n.Content[i].Value, n.Content[i+1]
			switch v.Kind {
			case yaml.MappingNode:
				walk(typ, k+".", v)
			case yaml.SequenceNode:
				var items []string
				for _, c := range v.Content {
					items = append(items, c.Value)
				}
				out[typ][k] = strings.Join(items, ",")
			default:
				out[typ][k] = v.Value
			}
		}
	}
	for _, d := range doc.Directories {
		for _, typ := range []string{"ldap", "ad"} {
			if n, ok := d[typ]; ok {
				out[typ] = map[string]string{}
				walk(typ, "", &n)
			}
		}
	}
	return out
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
		if name != head {
			continue
		}
		if !nested {
			return v.Field(i), true
		}
		return byYAMLPath(v.Field(i), rest)
	}
	return reflect.Value{}, false
}

var secretType = reflect.TypeFor[secret.String]()

// fill sets every settable leaf of v to a distinct non-zero value.
func fill(v reflect.Value, n *int) {
	*n++
	switch {
	case v.Type() == secretType:
		v.Set(reflect.ValueOf(secret.New(fmt.Sprintf("s%d", *n))))
	case v.Type() == reflect.TypeFor[time.Duration]():
		v.SetInt(int64(*n) * int64(time.Second))
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), n)
			}
		}
	case v.Kind() == reflect.String:
		v.SetString(fmt.Sprintf("v%d", *n))
	case v.Kind() == reflect.Bool:
		v.SetBool(true)
	case v.Kind() == reflect.Int:
		v.SetInt(int64(*n))
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		v.Set(reflect.ValueOf([]string{fmt.Sprintf("l%d", *n)}).Convert(v.Type()))
	default:
		panic("fill: unhandled " + v.Type().String())
	}
}

// scalar formats a backend value the way the example writes it.
func scalar(v reflect.Value) string {
	switch {
	case v.Type() == reflect.TypeFor[time.Duration]():
		return time.Duration(v.Int()).String()
	case v.Kind() == reflect.Slice:
		return strings.Join(v.Interface().([]string), ",")
	case v.Kind() == reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case v.Kind() == reflect.Int:
		return strconv.FormatInt(v.Int(), 10)
	}
	return v.String()
}

// exampleEnv supplies the secrets and files the example leaves to the
// environment, as TestExampleIsValid does.
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
		"RESETBOT_DIRECTORIES__1__AD__BIND_PASSWORD=x",
		"RESETBOT_NOTIFY__EMAIL__PASSWORD=x",
		"RESETBOT_CHANNELS__SLACK__SIGNING_SECRET=x",
		"RESETBOT_CHANNELS__SLACK__BOT_TOKEN=x",
		"RESETBOT_CHANNELS__TWILIO__AUTH_TOKEN=x",
		"RESETBOT_STORE__BOLT__PATH=" + t.TempDir() + "/db",
		"RESETBOT_FANOUT__TARGETS__0__LDAP__BIND_PASSWORD=x",
		"RESETBOT_FANOUT__TARGETS__1__AD__BIND_PASSWORD=x",
		"RESETBOT_FANOUT__TARGETS__2__WEBHOOK__SECRET=" + strings.Repeat("w", 32),
		"RESETBOT_FANOUT__TARGETS__3__KERBEROS__KEYTAB=" + kt,
		"RESETBOT_FANOUT__TARGETS__4__GOOGLE_WORKSPACE__KEY_FILE=" + kt,
	}
}
