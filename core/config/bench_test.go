package config_test

import (
	"testing"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/plugins"
)

func BenchmarkParseExample(b *testing.B) {
	data := config.ExampleYAML()
	env := []string{"RESETBOT_CHANNELS__SLACK__BOT_TOKEN=x", "RESETBOT_SERVER__LISTEN=:9000"}
	for b.Loop() {
		_, _ = config.Parse(data, env, plugins.All())
	}
}
