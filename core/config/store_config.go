package config

import (
	"github.com/resetbot/resetbot/core/secret"
)

// StoreConfig selects the session, code and counter store.
type StoreConfig struct {
	// Type is memory (demo only), bolt (one node) or redis.
	Type  string      `yaml:"type"`
	Bolt  BoltConfig  `yaml:"bolt"`
	Redis RedisConfig `yaml:"redis"`
}

// BoltConfig configures the single-node bbolt store.
type BoltConfig struct {
	// Path is the database file; its directory must exist.
	Path string `yaml:"path"`
}

// RedisConfig configures the Redis store (standalone, Sentinel or Cluster).
type RedisConfig struct {
	// Addrs are host:port pairs. One address is a standalone server; with
	// MasterName they are Sentinels; several without MasterName is a Cluster.
	Addrs      []string      `yaml:"addrs"`
	MasterName string        `yaml:"master_name"`
	Username   string        `yaml:"username"`
	Password   secret.String `yaml:"password"`
	DB         int           `yaml:"db"`
	// TLS is required in production unless AllowPlain is set.
	TLS        bool   `yaml:"tls"`
	AllowPlain bool   `yaml:"allow_plain"`
	CAFile     string `yaml:"ca_file"`
	ServerName string `yaml:"server_name"`
	// KeyPrefix namespaces every key, e.g. "resetbot:".
	KeyPrefix string `yaml:"key_prefix"`
}

func defaultStore() StoreConfig {
	return StoreConfig{Redis: RedisConfig{KeyPrefix: "resetbot:"}}
}

func (v *validator) store(s *StoreConfig) {
	const p = "store"
	switch s.Type {
	case "":
		v.errorf(p+".type", "is required (bolt or redis)")
	case "memory":
		if v.production() {
			v.errorf(p+".type", "memory is the demo store and cannot be used in production; choose bolt or redis")
		}
	case "bolt":
		if s.Bolt.Path == "" {
			v.errorf(p+".bolt.path", "is required when store.type is bolt")
		} else {
			v.dirExists(p+".bolt.path", s.Bolt.Path)
		}
	case "redis":
		v.redis(&s.Redis)
	default:
		v.errorf(p+".type", "must be one of memory, bolt, redis")
	}
}

func (v *validator) redis(r *RedisConfig) {
	const p = "store.redis"
	if len(r.Addrs) == 0 {
		v.errorf(p+".addrs", "needs at least one host:port")
	}
	for i, a := range r.Addrs {
		if !validHostPort(a) {
			v.errorf(index(p+".addrs", i), "must be host:port")
		}
	}
	if r.DB < 0 || r.DB > 15 {
		v.errorf(p+".db", "must be between 0 and 15")
	}
	if r.DB != 0 && r.MasterName == "" && len(r.Addrs) > 1 {
		v.errorf(p+".db", "must be 0 for Redis Cluster")
	}
	if !r.TLS {
		switch {
		case r.AllowPlain:
			v.warnf(p+".tls", "TLS is off: codes, sessions and counters cross the network in clear text")
		case v.production():
			v.errorf(p+".tls", "must be true in production (or set allow_plain to accept clear text)")
		}
	}
	if !r.TLS && (r.CAFile != "" || r.ServerName != "") {
		v.warnf(p+".ca_file", "ca_file and server_name are ignored while tls is false")
	}
	v.fileExists(p+".ca_file", r.CAFile)
}
