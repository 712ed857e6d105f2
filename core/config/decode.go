package config

import (
	"encoding"
	"fmt"
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/resetbot/resetbot/core/plugin"
)

var (
	durationType        = reflect.TypeFor[time.Duration]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// decoder walks a YAML node tree alongside the Config type. Unlike
// yaml.Decoder.KnownFields, which stops at the first unknown key, it reports
// every unknown key, duplicate and ill-typed value with its path and line.
type decoder struct {
	r      *report
	reg    plugin.Registry // plug-in blocks decode into their own types
	visits int             // nodes visited, aliases included: bounds "billion laughs" expansion
}

// maxVisits is far above any real configuration.
const maxVisits = 100000

func (d *decoder) problem(path string, line int, format string, args ...any) {
	d.r.failed[path] = true
	d.r.add(path, line, false, fmt.Sprintf(format, args...))
}

// decode stores n into v. A null node keeps v's current (default) value.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if isNull(n) {
		return
	}
	if d.visits++; d.visits > maxVisits {
		if d.visits == maxVisits+1 {
			d.problem(path, n.Line, "the document expands to too many values (aliases nested too deeply?)")
		}
		return
	}
	t := v.Type()
	switch {
	case isLeaf(t):
		d.leaf(n, v, path)
	case t.Kind() == reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		d.decode(n, v.Elem(), path)
	case t.Kind() == reflect.Struct:
		d.structure(n, v, path)
	case t.Kind() == reflect.Slice:
		d.sequence(n, v, path)
	case t.Kind() == reflect.Map:
		d.mapping(n, v, path)
	default:
		panic(fmt.Sprintf("config: unsupported field type %s at %s", t, path))
	}
}

func (d *decoder) leaf(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.problem(path, n.Line, "expected a single value, got %s", kindName(n))
		return
	}
	if err := n.Decode(v.Addr().Interface()); err != nil {
		// yaml's message quotes the value, which may be a secret: use our own.
		d.problem(path, n.Line, "%s", leafHint(v.Type()))
	}
}

func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.problem(path, n.Line, "expected a block of settings (key: value), got %s", kindName(n))
		return
	}
	t := v.Type()
	fields := fieldsOf(t)
	ps := pluginSlots(t)
	typ := typeKey(n)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.ShortTag() == "!!merge" { // "<<: *anchor" merges another block
			d.merge(val, v, path)
			continue
		}
		cp := join(path, k.Value)
		idx, ok := fields[k.Value]
		switch {
		case seen[k.Value]:
			d.problem(cp, k.Line, "key %q appears twice", k.Value)
			continue
		case !ok:
			seen[k.Value] = true
			switch {
			case d.pluginKey(ps, v, k, val, cp, typ):
			case movedTo(cp) != "":
				d.problem(cp, k.Line, "%s", movedTo(cp))
			default:
				d.problem(cp, k.Line, "unknown key %q%s", k.Value, suggest(k.Value, fields))
			}
			continue
		}
		seen[k.Value] = true
		d.r.lines[cp] = k.Line
		d.decode(val, v.FieldByIndex(idx), cp)
	}
	d.pluginDefaults(ps, v, n, path, typ)
}

func (d *decoder) merge(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if d.visits++; d.visits > maxVisits {
		if d.visits == maxVisits+1 {
			d.problem(path, n.Line, "the document expands to too many values (aliases nested too deeply?)")
		}
		return
	}
	if n.Kind == yaml.SequenceNode {
		for _, m := range n.Content {
			d.merge(m, v, path)
		}
		return
	}
	d.structure(n, v, path)
}

func (d *decoder) sequence(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.problem(path, n.Line, "expected a list, got %s", kindName(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, el := range n.Content {
		ip := index(path, i)
		d.r.lines[ip] = el.Line
		d.decode(el, s.Index(i), ip)
	}
	v.Set(s)
}

// mapping decodes a map[string]T, merging over the default entries.
func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.problem(path, n.Line, "expected a block of settings (key: value), got %s", kindName(n))
		return
	}
	m := reflect.MakeMap(v.Type())
	for it := v.MapRange(); it.Next(); {
		m.SetMapIndex(it.Key(), it.Value())
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		cp := join(path, k.Value)
		if seen[k.Value] {
			d.problem(cp, k.Line, "key %q appears twice", k.Value)
			continue
		}
		seen[k.Value] = true
		d.r.lines[cp] = k.Line
		elem := reflect.New(v.Type().Elem()).Elem()
		if old := m.MapIndex(reflect.ValueOf(k.Value)); old.IsValid() {
			elem.Set(old)
		}
		d.decode(val, elem, cp)
		m.SetMapIndex(reflect.ValueOf(k.Value), elem)
	}
	v.Set(m)
}

func isNull(n *yaml.Node) bool {
	return n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// isLeaf reports whether t is decoded from a single scalar.
func isLeaf(t reflect.Type) bool {
	if reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return true
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32,
		reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

func leafHint(t reflect.Type) string {
	switch {
	case t == durationType:
		return "must be a duration such as 90s, 15m or 1h"
	case t.Kind() == reflect.Bool:
		return "must be true or false"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "must be a whole number"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "must be a number"
	}
	return "has the wrong type"
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a block of settings"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a single value"
	}
	return "something else"
}

// fieldsOf maps YAML key → field index for a struct type, following inline
// embedded structs.
func fieldsOf(t reflect.Type) map[string][]int {
	out := map[string][]int{}
	var walk func(t reflect.Type, prefix []int)
	walk = func(t reflect.Type, prefix []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			idx := append(append([]int(nil), prefix...), i)
			switch {
			case name == "-" || !f.IsExported():
			case strings.Contains(opts, "inline") && f.Type.Kind() == reflect.Struct:
				walk(f.Type, idx)
			case name != "":
				out[name] = idx
			}
		}
	}
	walk(t, nil)
	return out
}

// suggest returns ` (did you mean "x"?)` for a near miss, or "".
func suggest(key string, fields map[string][]int) string {
	best, bestDist := "", 3
	for name := range fields {
		if dd := distance(key, name); dd < bestDist || (dd == bestDist && best != "" && name < best) {
			best, bestDist = name, dd
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
