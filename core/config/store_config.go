package config

import "github.com/resetbot/resetbot/core/plugin"

// StoreConfig selects the session, code and counter store. Its settings
// are the plug-in's own (store.<type>, e.g. store.redis: core/store/redis
// Config), decoded and validated by the plug-in registered under Type.
type StoreConfig struct {
	// Type is memory (demo only), bolt (one node) or redis.
	Type   string        `yaml:"type"`
	Plugin plugin.Config `yaml:"-" plugin:"store"`
}

func (v *validator) store(s *StoreConfig) {
	if s.Type == "" {
		v.errorf("store.type", "is required (bolt or redis)")
	}
}
