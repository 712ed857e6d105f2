package config_test

import (
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/plugins"
)

// TestPasswordPolicy: the defaults follow NIST 800-63B-4 (15 characters,
// strength 3), a lower minimum or strength is a warning that explains the
// trade-off, and impossible values are errors.
func TestPasswordPolicy(t *testing.T) {
	_, sections := fixture(t)
	cfg, probs := config.Parse([]byte(render(sections, map[string]string{"password": "password: {}\n"})), nil, plugins.All())
	if probs.HasErrors() {
		t.Fatalf("defaults: %s", probs.Error())
	}
	if cfg.Password.MinLength != 15 || cfg.Password.MinStrength != 3 {
		t.Fatalf("defaults: min_length %d, min_strength %d; want 15, 3", cfg.Password.MinLength, cfg.Password.MinStrength)
	}
	for _, tc := range []struct {
		yaml, path string
		isErr      bool
		words      []string
	}{
		{"password: {min_length: 12}\n", "password.min_length", false, []string{"800-63B-4", "only factor", "second factor"}},
		{"password: {min_length: 7}\n", "password.min_length", true, []string{"at least 8"}},
		{"password: {min_strength: 0}\n", "password.min_strength", false, []string{"off"}},
		{"password: {min_strength: 2}\n", "password.min_strength", false, []string{"below 3"}},
		{"password: {min_strength: 5}\n", "password.min_strength", true, []string{"0 (off) to 4"}},
	} {
		t.Run(tc.yaml, func(t *testing.T) {
			_, probs := config.Parse([]byte(render(sections, map[string]string{"password": tc.yaml})), nil, plugins.All())
			var found bool
			for _, p := range probs {
				if p.Path != tc.path {
					continue
				}
				found = true
				if got := probs.HasErrors(); got != tc.isErr {
					t.Errorf("HasErrors = %v, want %v: %s", got, tc.isErr, probs.Error())
				}
				for _, w := range tc.words {
					if !strings.Contains(p.Message, w) {
						t.Errorf("message %q lacks %q", p.Message, w)
					}
				}
			}
			if !found {
				t.Fatalf("no problem at %s: %s", tc.path, probs.Error())
			}
		})
	}
}
