package config

import (
	"fmt"
	"io"
	"net/url"
	"reflect"
	"strings"

	"github.com/resetbot/resetbot/core/secret"
	"go.yaml.in/yaml/v3"
)

// Summary writes the effective configuration (defaults, file and environment
// merged, and the defaults the adapters apply at use filled in) as YAML for
// `resetbot check-config`. A secret prints as REDACTED when set and as ""
// when empty, never its value.
func (c *Config) Summary(w io.Writer) error {
	c = c.effective()
	var n yaml.Node
	if err := n.Encode(c); err != nil {
		return fmt.Errorf("config: encode summary: %w", err)
	}
	if err := encodePlugins(&n, reflect.ValueOf(c).Elem()); err != nil {
		return fmt.Errorf("config: encode summary: %w", err)
	}
	markSecrets(&n, reflect.ValueOf(c).Elem())
	if _, err := fmt.Fprintf(w, "# effective configuration (mode %s); secrets are shown as %s\n", c.Mode, secret.Redacted); err != nil {
		return fmt.Errorf("config: write summary: %w", err)
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return fmt.Errorf("config: write summary: %w", err)
	}
	return enc.Close()
}

// Redacted returns Summary as a string.
func (c *Config) Redacted() string {
	var b strings.Builder
	_ = c.Summary(&b) // a strings.Builder does not fail
	return b.String()
}

// markSecrets walks the encoded tree alongside v and shows unset secrets as "".
func markSecrets(n *yaml.Node, v reflect.Value) {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if s, ok := v.Interface().(secret.String); ok {
		n.Kind, n.Tag, n.Style, n.Value = yaml.ScalarNode, "!!str", 0, secret.Redacted
		if s.Empty() {
			n.Value = ""
		}
		return
	}
	switch {
	case v.Kind() == reflect.String && n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "://"):
		// A URL with a password is refused by validation, but the summary of
		// a refused config must not print it either.
		if u, err := url.Parse(n.Value); err == nil && u.User != nil {
			n.Value = u.Redacted()
		}
	case v.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		fields := fieldsOf(v.Type())
		for i := 0; i+1 < len(n.Content); i += 2 {
			if idx, ok := fields[n.Content[i].Value]; ok {
				markSecrets(n.Content[i+1], v.FieldByIndex(idx))
			} else if pv, ok := pluginValue(v, n.Content[i].Value); ok {
				markSecrets(n.Content[i+1], pv)
			}
		}
	case v.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i := 0; i < v.Len() && i < len(n.Content); i++ {
			markSecrets(n.Content[i], v.Index(i))
		}
	}
}
