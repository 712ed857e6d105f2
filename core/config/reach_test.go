package config_test

import (
	"reflect"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/plugin"
	"github.com/resetbot/resetbot/plugins"
)

// TestEveryExampleKeyReachesItsOwner walks every value in example.yaml and
// demo.yaml and finds it, decoded, in the loaded configuration: in the
// framework's own sections, or inside the plug-in's own configuration value
// (the value its Open receives). A documented key that decoded nowhere, or
// into a value other than the one written, fails here.
func TestEveryExampleKeyReachesItsOwner(t *testing.T) {
	for name, doc := range map[string][]byte{"example.yaml": config.ExampleYAML(), "demo.yaml": config.DemoYAML()} {
		t.Run(name, func(t *testing.T) {
			cfg, _ := config.Parse(doc, nil, plugins.All())
			if cfg == nil {
				t.Fatal("does not parse")
			}
			var root yaml.Node
			if err := yaml.Unmarshal(doc, &root); err != nil {
				t.Fatal(err)
			}
			n, least := 0, 200
			if name == "demo.yaml" {
				least = 10
			}
			walkLeaves(root.Content[0], reflect.ValueOf(cfg).Elem(), "", func(path string, node *yaml.Node, v reflect.Value) {
				n++
				if !v.IsValid() {
					t.Errorf("%s: documented, but no setting or plug-in block holds it", path)
					return
				}
				if node.ShortTag() == "!!null" {
					if !v.IsZero() {
						t.Errorf("%s: null in the file, %v loaded", path, v.Interface())
					}
					return
				}
				want := reflect.New(v.Type())
				if err := node.Decode(want.Interface()); err != nil {
					t.Errorf("%s: %v", path, err)
					return
				}
				if !reflect.DeepEqual(want.Elem().Interface(), v.Interface()) {
					t.Errorf("%s: file says %q, the loaded value is %v", path, node.Value, v.Interface())
				}
			})
			if n < least {
				t.Fatalf("only %d values walked", n)
			}
		})
	}
}

// walkLeaves calls f for every scalar (or list of scalars) in n with the
// value at the same place in v, following plug-in blocks into the plug-in's
// own value; v is invalid when nothing holds the key.
func walkLeaves(n *yaml.Node, v reflect.Value, path string, f func(string, *yaml.Node, reflect.Value)) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		f(path, n, v) // null keeps the default: a nil pointer stays nil
		return
	}
	for v.IsValid() && (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) {
		if v.IsNil() {
			v = reflect.Value{}
			break
		}
		v = v.Elem()
	}
	switch {
	case n.Kind == yaml.ScalarNode || (n.Kind == yaml.SequenceNode && allScalars(n)):
		f(path, n, v)
	case n.Kind == yaml.SequenceNode:
		for i, c := range n.Content {
			var e reflect.Value
			if v.IsValid() && v.Kind() == reflect.Slice && i < v.Len() {
				e = v.Index(i)
			}
			walkLeaves(c, e, path+"["+strconv.Itoa(i)+"]", f)
		}
	case n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			walkLeaves(n.Content[i+1], field(v, k), strings.TrimPrefix(path+"."+k, "."), f)
		}
	}
}

func allScalars(n *yaml.Node) bool {
	for _, c := range n.Content {
		if c.Kind != yaml.ScalarNode {
			return false
		}
	}
	return true
}

// field returns the setting named key in v: a struct field by yaml tag
// (inline structs included), a map entry, or a plug-in block (the typed
// slot for the struct's type, or an inline plug-in map's entry).
func field(v reflect.Value, key string) reflect.Value {
	if !v.IsValid() {
		return v
	}
	switch v.Kind() {
	case reflect.Map:
		return v.MapIndex(reflect.ValueOf(key))
	case reflect.Struct:
	default:
		return reflect.Value{}
	}
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		name, opts, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		kind := plugin.Kind(sf.Tag.Get("plugin"))
		switch {
		case !sf.IsExported():
		case kind != "" && sf.Type.Kind() == reflect.Map:
			if e := v.Field(i).MapIndex(reflect.ValueOf(key)); e.IsValid() {
				return e
			}
		case kind != "":
			if tf := v.FieldByName("Type"); tf.IsValid() && tf.String() == key {
				return v.Field(i)
			}
		case strings.Contains(opts, "inline") && sf.Type.Kind() == reflect.Struct:
			if f := field(v.Field(i), key); f.IsValid() {
				return f
			}
		case name == key:
			return v.Field(i)
		}
	}
	return reflect.Value{}
}
