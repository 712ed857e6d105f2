package config_test

import (
	"testing"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/plugins"
)

func TestTracingConfig(t *testing.T) {
	for _, c := range []struct {
		yaml string
		ok   bool
	}{
		{"mode: demo\ntracing: {otlp_endpoint: \"https://otel:4318\", sample_ratio: 0.5}\n", true},
		{"mode: demo\ntracing: {otlp_endpoint: \"otel:4318\"}\n", false},
		{"mode: demo\ntracing: {otlp_endpoint: \"https://u:p@otel:4318\"}\n", false},
		{"mode: demo\ntracing: {sample_ratio: 2}\n", false},
	} {
		_, probs := config.Parse([]byte(c.yaml), nil, plugins.All())
		bad := false
		for _, p := range probs {
			bad = bad || (!p.Warning && len(p.Path) >= 7 && p.Path[:7] == "tracing")
		}
		if bad == c.ok {
			t.Errorf("%q: problems %v", c.yaml, probs)
		}
	}
	cfg, _ := config.Parse([]byte("mode: demo\n"), nil, plugins.All())
	if cfg.Tracing.Endpoint != "" {
		t.Error("tracing is on by default")
	}
}
