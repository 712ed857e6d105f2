package config

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/resetbot/resetbot/core/plugin"
	"github.com/resetbot/resetbot/core/secret"
	"go.yaml.in/yaml/v3"
)

// Environment overrides
//
// Every setting can be overridden by an environment variable named
//
//	RESETBOT_ + the setting path in upper case, with "__" between levels
//
// List elements are addressed by their index. Examples:
//
//	RESETBOT_MODE=production
//	RESETBOT_SERVER__LISTEN=:8443
//	RESETBOT_CHANNELS__SLACK__SIGNING_SECRET=...
//	RESETBOT_DIRECTORIES__0__LDAP__BIND_PASSWORD=...
//	RESETBOT_FACTORS__ENABLED=totp,sms        (a list of values: comma-separated)
//	RESETBOT_FACTORS__REQUIRE__RESET__VOICE=2 (a map entry)
//
// A secret setting can instead be read from a file by appending _FILE, e.g.
// RESETBOT_CHANNELS__SLACK__SIGNING_SECRET_FILE=/run/secrets/slack; one trailing
// newline is removed. _FILE is accepted for secret settings only.
//
// Environment values win over the file. An index may address an existing list
// element or append exactly one (index == current length). An unknown
// RESETBOT_ variable is an error, so a typo cannot silently drop a secret.
// Variables in ReservedEnv are ignored here (the command reads them).
const EnvPrefix = "RESETBOT_"

// ReservedEnv lists RESETBOT_ variables that are not settings.
var ReservedEnv = []string{"RESETBOT_CONFIG"}

const fileSuffix = "_FILE"

// applyEnv merges environment overrides into the YAML tree before decoding, so
// they are decoded and validated exactly like file values.
func (l *loader) applyEnv(root *yaml.Node, env []string, r *report) {
	vars := map[string]string{}
	for _, kv := range env {
		k, val, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(k, EnvPrefix) && !slices.Contains(ReservedEnv, k) {
			vars[k] = val
		}
	}
	cfgType := reflect.TypeFor[Config]()
	for _, k := range sortedKeys(vars) {
		segs := strings.Split(strings.ToLower(strings.TrimPrefix(k, EnvPrefix)), "__")
		_, path, err := resolve(l.reg, cfgType, segs)
		fromFile := false
		if err != nil && strings.HasSuffix(k, fileSuffix) {
			base := strings.TrimSuffix(k, fileSuffix)
			bsegs := segs[: len(segs)-1 : len(segs)-1]
			bsegs = append(bsegs, strings.TrimSuffix(segs[len(segs)-1], strings.ToLower(fileSuffix)))
			if bt, bpath, berr := resolve(l.reg, cfgType, bsegs); berr == nil {
				switch {
				case bt != reflect.TypeFor[secret.String]():
					err = fmt.Errorf("_FILE is only accepted for secret settings; %s is not one", bpath)
				case vars[base] != "":
					err = fmt.Errorf("both %s and %s are set; use one", base, k)
				default:
					path, segs, err, fromFile = bpath, bsegs, nil, true
				}
			}
		}
		if err != nil {
			r.add(k, 0, false, err.Error())
			continue
		}
		val := vars[k]
		if fromFile {
			b, rerr := l.readFile(val)
			if rerr != nil {
				r.add(path, 0, false, fmt.Sprintf("cannot read the file named by %s: %v", k, rerr))
				continue
			}
			val = strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
		}
		if err := setNode(l.reg, root, cfgType, segs, val); err != nil {
			r.add(path, 0, false, fmt.Sprintf("%v (%s)", err, k))
			continue
		}
		r.origins[path] = k
	}
}

// resolve follows segs through t and returns the type and display path of
// the setting they name.
func resolve(reg plugin.Registry, t reflect.Type, segs []string) (reflect.Type, string, error) {
	path := ""
	for i, seg := range segs {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch {
		case isLeaf(t):
			return nil, "", fmt.Errorf("unknown setting: %s has no %q", path, strings.Join(segs[i:], "__"))
		case t.Kind() == reflect.Struct:
			next, err := child(reg, t, path, seg)
			if err != nil {
				return nil, "", fmt.Errorf("unknown setting: %w", err)
			}
			t, path = next, join(path, seg)
		case t.Kind() == reflect.Slice:
			n, err := strconv.Atoi(seg)
			if err != nil || n < 0 {
				return nil, "", fmt.Errorf("unknown setting: %s is a list, expected an index instead of %q", path, seg)
			}
			t, path = t.Elem(), index(path, n)
		case t.Kind() == reflect.Map:
			t, path = t.Elem(), join(path, seg)
		}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if !isLeaf(t) && !(t.Kind() == reflect.Slice && isLeaf(t.Elem())) {
		return nil, "", fmt.Errorf("unknown setting: %s is a block; set its fields one by one", path)
	}
	return t, path, nil
}

// setNode sets the value at segs, creating blocks and list elements as needed.
func setNode(reg plugin.Registry, n *yaml.Node, t reflect.Type, segs []string, val string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if len(segs) == 0 {
		*n = leafNode(t, val)
		return nil
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		if n.Kind != yaml.MappingNode {
			*n = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		}
		next := t.Elem // a map's entries
		if t.Kind() == reflect.Struct {
			ct, err := child(reg, t, "", segs[0])
			if err != nil {
				return err
			}
			next = func() reflect.Type { return ct }
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == segs[0] {
				return setNode(reg, n.Content[i+1], next(), segs[1:], val)
			}
		}
		k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: segs[0]}
		v := &yaml.Node{}
		n.Content = append(n.Content, k, v)
		return setNode(reg, v, next(), segs[1:], val)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			*n = yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		}
		i, _ := strconv.Atoi(segs[0]) // resolve checked it
		switch {
		case i < len(n.Content):
		case i == len(n.Content):
			n.Content = append(n.Content, &yaml.Node{})
		default:
			return fmt.Errorf("index %d skips list elements: the list has %d", i, len(n.Content))
		}
		return setNode(reg, n.Content[i], t.Elem(), segs[1:], val)
	}
	return fmt.Errorf("cannot set a value here")
}

// leafNode builds the node for one value (or a comma-separated list). Text and
// secret values are tagged as strings so "", "true" or "123" stay literal.
func leafNode(t reflect.Type, val string) yaml.Node {
	if t.Kind() == reflect.Slice {
		n := yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, item := range strings.Split(val, ",") {
			if item = strings.TrimSpace(item); item != "" {
				el := leafNode(t.Elem(), item)
				n.Content = append(n.Content, &el)
			}
		}
		return n
	}
	n := yaml.Node{Kind: yaml.ScalarNode, Value: val}
	if t.Kind() == reflect.String || reflect.PointerTo(t).Implements(textUnmarshalerType) {
		n.Tag = "!!str"
	}
	return n
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
