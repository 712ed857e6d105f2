package config

import "github.com/resetbot/resetbot/core/plugin"

// Defaults applied where a setting is used rather than when it is loaded
// (the adapters accept zero values) are said by the plug-ins themselves
// (EffectiveConfig: Slack's workers, Teams' endpoints, the phone's and its
// Twilio account's timeouts and budgets), so that `check-config -summary`
// shows the values actually in force instead of `workers: 0`; each
// package's tests keep them in step with example.yaml, which documents
// each one.

// effective returns a copy of c with the use-time defaults filled in. Only
// the copy is changed: the loaded Config keeps the zero values the adapters
// expect.
func (c *Config) effective() *Config {
	e := *c
	e.Factors.Require.Enroll = effectiveEnroll(c.Factors.Require)
	e.Channels.Plugins = effectivePlugins(c.Channels.Plugins)
	return &e
}

// effectivePlugins returns a copy of a plug-in map in which every block
// that applies defaults at use (EffectiveConfig) is replaced by its
// effective copy; the loaded blocks are left as they are.
func effectivePlugins(m map[string]plugin.Config) map[string]plugin.Config {
	if m == nil {
		return nil
	}
	out := make(map[string]plugin.Config, len(m))
	for k, cfg := range m {
		if e, ok := cfg.(EffectiveConfig); ok {
			cfg = e.Effective()
		}
		out[k] = cfg
	}
	return out
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func orInt(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}
