package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/resetbot/resetbot/core/plugin"
)

// Plug-in blocks
//
// A section holds plug-in blocks in one of two shapes, each marked on a
// field of type plugin.Config (or a map of them) by the tag plugin:"<kind>":
//
//   - typed: the field is plugin.Config with yaml:"-"; its block is the key
//     named by the struct's `type` setting (directories[0].type: ldap takes
//     directories[0].ldap). A block for another registered type is an error.
//   - inline: the field is map[string]plugin.Config with yaml:",inline"; keys
//     of the section that are not its own settings and are registered types
//     of the kind are plug-in blocks (notify.email beside notify.outbox, channels.slack beside
//     channels.teams).
//
// The block is decoded into the value returned by the plug-in's registry
// entry, so its own struct decides the keys, types and defaults, and unknown
// keys are reported with paths and lines like everywhere else.

var pluginConfigType = reflect.TypeFor[plugin.Config]()

// slots are the plug-in fields of one struct type.
type slots struct {
	typed, inline         []int
	typedKind, inlineKind plugin.Kind
}

// pluginSlots finds the typed and inline plug-in fields of struct type t.
func pluginSlots(t reflect.Type) slots {
	var s slots
	for i := range t.NumField() {
		f := t.Field(i)
		kind := plugin.Kind(f.Tag.Get("plugin"))
		if kind == "" {
			continue
		}
		_, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case f.Type == pluginConfigType:
			s.typed, s.typedKind = []int{i}, kind
		case isPluginMap(f.Type) && strings.Contains(opts, "inline"):
			s.inline, s.inlineKind = []int{i}, kind
		}
	}
	return s
}

func isPluginMap(t reflect.Type) bool {
	return t.Kind() == reflect.Map && t.Key().Kind() == reflect.String && t.Elem() == pluginConfigType
}

// scalarKey returns the value of key in mapping n, or "".
func scalarKey(n *yaml.Node, key string) string {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key && n.Content[i+1].Kind == yaml.ScalarNode {
			return n.Content[i+1].Value
		}
	}
	return ""
}

// typeKey returns the type setting of mapping n: its own, or one merged in
// ("<<: *base" where the anchored block sets type). Only the blocks merged
// directly are read, so nested merges cannot make this expensive.
func typeKey(n *yaml.Node) string {
	if t := scalarKey(n, "type"); t != "" {
		return t
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].ShortTag() != "!!merge" {
			continue
		}
		srcs := []*yaml.Node{n.Content[i+1]}
		if srcs[0].Kind == yaml.SequenceNode {
			srcs = srcs[0].Content
		}
		for _, s := range srcs {
			if s.Kind == yaml.AliasNode && s.Alias != nil {
				s = s.Alias
			}
			if t := scalarKey(s, "type"); t != "" {
				return t
			}
		}
	}
	return ""
}

// pluginKey decodes key k of a struct with plug-in slots s when it is a
// plug-in block, and reports whether it was one. typ is the struct's type
// setting (for a typed slot).
func (d *decoder) pluginKey(s slots, v reflect.Value, k, val *yaml.Node, path, typ string) bool {
	switch {
	case s.typed != nil && d.reg.Has(s.typedKind, k.Value):
		if k.Value != typ {
			d.problem(path, k.Line, "the %s block belongs to type %s, but type is %q: remove it or set type: %s",
				k.Value, k.Value, typ, k.Value)
			return true
		}
		cfg, _ := d.reg.New(s.typedKind, typ)
		d.r.lines[path] = k.Line
		d.decode(val, reflect.ValueOf(cfg).Elem(), path)
		v.FieldByIndex(s.typed).Set(reflect.ValueOf(cfg))
		return true
	case s.inline != nil && d.reg.Has(s.inlineKind, k.Value):
		d.r.lines[path] = k.Line
		d.pluginEntry(v.FieldByIndex(s.inline), s.inlineKind, k.Value, val, path)
		return true
	}
	return false
}

// pluginDefaults gives a typed slot left without a block its plug-in's
// defaults, and reports a type no plug-in registers.
func (d *decoder) pluginDefaults(s slots, v reflect.Value, n *yaml.Node, path, typ string) {
	if s.typed == nil || typ == "" {
		return
	}
	f := v.FieldByIndex(s.typed)
	if !f.IsNil() {
		return
	}
	cfg, ok := d.reg.New(s.typedKind, typ)
	if !ok {
		tp := join(path, "type")
		line := 0
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "type" {
				line = n.Content[i].Line
			}
		}
		d.problem(tp, line, "unknown %s type %q; use one of %s", s.typedKind, typ,
			strings.Join(d.reg.Types(s.typedKind), ", "))
		return
	}
	f.Set(reflect.ValueOf(cfg))
}

// pluginEntry decodes the block of plug-in typ into map m (created if nil),
// over the entry already there (a default) or the plug-in's defaults.
func (d *decoder) pluginEntry(m reflect.Value, kind plugin.Kind, typ string, val *yaml.Node, path string) {
	if m.IsNil() {
		m.Set(reflect.MakeMap(m.Type()))
	}
	key := reflect.ValueOf(typ)
	cfg, _ := d.reg.New(kind, typ)
	if old := m.MapIndex(key); old.IsValid() && !old.IsNil() {
		cfg = old.Interface().(plugin.Config)
	}
	d.decode(val, reflect.ValueOf(cfg).Elem(), path)
	m.SetMapIndex(key, reflect.ValueOf(cfg))
}

// pluginType returns the concrete configuration type of plug-in typ of kind
// k (the struct its registry entry points to), for environment overrides.
func pluginType(reg plugin.Registry, k plugin.Kind, typ string) (reflect.Type, bool) {
	cfg, ok := reg.New(k, typ)
	if !ok {
		return nil, false
	}
	return reflect.TypeOf(cfg), true
}

// child is the type below t at key seg, following plug-in blocks: the
// environment names a block by its type (RESETBOT_DIRECTORIES__0__LDAP__URL).
// The error names seg relative to path.
func child(reg plugin.Registry, t reflect.Type, path, seg string) (reflect.Type, error) {
	if idx, ok := fieldsOf(t)[seg]; ok {
		return t.FieldByIndex(idx).Type, nil
	}
	s := pluginSlots(t)
	for _, kind := range []plugin.Kind{s.typedKind, s.inlineKind} {
		if kind == "" {
			continue
		}
		if pt, ok := pluginType(reg, kind, seg); ok {
			return pt, nil
		}
	}
	if msg := movedTo(join(path, seg)); msg != "" {
		return nil, fmt.Errorf("%s %s", join(path, seg), msg)
	}
	return nil, fmt.Errorf("no key %q%s", join(path, seg), suggest(seg, fieldsOf(t)))
}

// validatePlugins asks every plug-in block in the decoded tree v to
// validate itself under its setting path.
func (v *validator) validatePlugins(val reflect.Value, path string) {
	switch val.Kind() {
	case reflect.Pointer:
		if !val.IsNil() {
			v.validatePlugins(val.Elem(), path)
		}
	case reflect.Struct:
		t := val.Type()
		s := pluginSlots(t)
		if s.typed != nil {
			if cfg, ok := val.FieldByIndex(s.typed).Interface().(plugin.Config); ok && cfg != nil {
				typ := ""
				if idx, ok := fieldsOf(t)["type"]; ok {
					typ = val.FieldByIndex(idx).String()
				}
				cfg.Validate(checker{v}, join(path, typ))
			}
		}
		if s.inline != nil {
			v.validateMap(val.FieldByIndex(s.inline), path)
		}
		v.validateFields(val, path)
	case reflect.Slice:
		if val.Type().Elem().Kind() == reflect.Struct || val.Type().Elem().Kind() == reflect.Pointer {
			for i := range val.Len() {
				v.validatePlugins(val.Index(i), index(path, i))
			}
		}
	}
}

// validateFields walks the settings of struct val in declaration order, so
// problems come out in a stable order.
func (v *validator) validateFields(val reflect.Value, path string) {
	t := val.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case name == "-" || !f.IsExported():
		case strings.Contains(opts, "inline"):
			if f.Type.Kind() == reflect.Struct {
				v.validateFields(val.Field(i), path)
			}
		case name != "":
			v.validatePlugins(val.Field(i), join(path, name))
		}
	}
}

// validateMap validates the blocks of a plug-in map in key order.
func (v *validator) validateMap(m reflect.Value, path string) {
	keys := m.MapKeys()
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.String()
	}
	slices.Sort(names)
	for _, name := range names {
		if cfg, ok := m.MapIndex(reflect.ValueOf(name)).Interface().(plugin.Config); ok && cfg != nil {
			cfg.Validate(checker{v}, join(path, name))
		}
	}
}

// checker lets a plug-in report into the load's problem list.
type checker struct{ v *validator }

func (c checker) Errorf(path, format string, args ...any) { c.v.errorf(path, format, args...) }
func (c checker) Warnf(path, format string, args ...any)  { c.v.warnf(path, format, args...) }
func (c checker) Given(path string) bool                  { return c.v.r.given(path) }
func (c checker) Production() bool                        { return c.v.production() }
func (c checker) FileExists(path, file string)            { c.v.fileExists(path, file) }

// pluginValue returns the plug-in block under key in struct v: the typed
// slot when key is v's type, or the inline map's entry.
func pluginValue(v reflect.Value, key string) (reflect.Value, bool) {
	s := pluginSlots(v.Type())
	if s.typed != nil {
		if idx, ok := fieldsOf(v.Type())["type"]; ok && v.FieldByIndex(idx).String() == key {
			if f := v.FieldByIndex(s.typed); !f.IsNil() {
				return f.Elem(), true
			}
		}
	}
	if s.inline != nil {
		if e := v.FieldByIndex(s.inline).MapIndex(reflect.ValueOf(key)); e.IsValid() && !e.IsNil() {
			return e.Elem(), true
		}
	}
	return reflect.Value{}, false
}

// encodePlugins adds every typed plug-in block to n, the encoding of v
// (which skips the yaml:"-" slot), under its type's key. Inline maps are
// encoded by yaml itself.
func encodePlugins(n *yaml.Node, v reflect.Value) error {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	switch {
	case v.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		fields := fieldsOf(v.Type())
		for i := 0; i+1 < len(n.Content); i += 2 {
			if idx, ok := fields[n.Content[i].Value]; ok {
				if err := encodePlugins(n.Content[i+1], v.FieldByIndex(idx)); err != nil {
					return err
				}
			}
		}
		s := pluginSlots(v.Type())
		if s.typed == nil || v.FieldByIndex(s.typed).IsNil() {
			return nil
		}
		var block yaml.Node
		if err := block.Encode(v.FieldByIndex(s.typed).Interface()); err != nil {
			return err
		}
		typ := ""
		if idx, ok := fields["type"]; ok {
			typ = v.FieldByIndex(idx).String()
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: typ}, &block)
	case v.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i := 0; i < v.Len() && i < len(n.Content); i++ {
			if err := encodePlugins(n.Content[i], v.Index(i)); err != nil {
				return err
			}
		}
	}
	return nil
}
