package config

import (
	"time"

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
	// Cluster forces Redis Cluster with a single seed address.
	Cluster bool `yaml:"cluster"`
	// SentinelUsername and SentinelPassword authenticate to the Sentinels.
	SentinelUsername string        `yaml:"sentinel_username"`
	SentinelPassword secret.String `yaml:"sentinel_password"`
	// DialTimeout, ReadTimeout and WriteTimeout bound connects, replies and
	// writes (defaults 2 s, 2 s, and the read timeout).
	DialTimeout  time.Duration `yaml:"dial_timeout"`
	ReadTimeout  time.Duration `yaml:"read_timeout"`
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// PoolSize is the connection pool size per node (default 64).
	PoolSize int `yaml:"pool_size"`
	// ReplicaAcks is how many replicas acknowledge a turn's session write
	// (Redis WAIT) before the turn answers; unset means 1 with Sentinel or
	// Cluster and 0 (off) with a single server. ReplicaAckTimeout bounds
	// the wait (default 250 ms; it must be shorter than the read timeout).
	// A commit the replicas did not acknowledge is not reported as done
	// (the platform redelivers) until none has been acknowledged for
	// ReplicaAckGrace in a row (default 5 s): then the replica is taken as
	// down for good and commits are accepted unacknowledged.
	ReplicaAcks       *int          `yaml:"replica_acks"`
	ReplicaAckTimeout time.Duration `yaml:"replica_ack_timeout"`
	ReplicaAckGrace   time.Duration `yaml:"replica_ack_grace"`
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
	cluster := r.MasterName == "" && (r.Cluster || len(r.Addrs) > 1)
	if r.DB != 0 && cluster {
		v.errorf(p+".db", "must be 0 for Redis Cluster")
	}
	if r.Cluster && r.MasterName != "" {
		v.errorf(p+".cluster", "cannot be combined with master_name (Sentinel)")
	}
	v.redisTiming(r, r.MasterName != "" || cluster)
	if !r.TLS {
		switch {
		case r.AllowPlain:
			v.warnf(p+".tls", "TLS is off: codes, sessions and counters cross the network in clear text")
		case v.production():
			v.errorf(p+".tls", "must be true in production (or set allow_plain to accept clear text)")
		}
	}
	// The Redis store refuses these without TLS; refusing them here too
	// keeps check-config and serve in agreement, with a path and a line.
	if !r.TLS && r.CAFile != "" {
		v.errorf(p+".ca_file", "needs tls: true (a CA is only used for TLS); set tls or remove ca_file")
	}
	if !r.TLS && r.ServerName != "" {
		v.errorf(p+".server_name", "needs tls: true (it names the TLS certificate); set tls or remove server_name")
	}
	v.fileExists(p+".ca_file", r.CAFile)
}

// redisTiming checks the Redis timeouts, pool and replica acknowledgements.
func (v *validator) redisTiming(r *RedisConfig, replicated bool) {
	const p = "store.redis"
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"dial_timeout", r.DialTimeout}, {"read_timeout", r.ReadTimeout}, {"write_timeout", r.WriteTimeout},
		{"replica_ack_timeout", r.ReplicaAckTimeout}, {"replica_ack_grace", r.ReplicaAckGrace}} {
		if d.v < 0 {
			v.errorf(p+"."+d.key, "must not be negative")
		}
	}
	if r.PoolSize < 0 {
		v.errorf(p+".pool_size", "must not be negative")
	}
	acks := 0
	if replicated {
		acks = 1
	}
	if r.ReplicaAcks != nil {
		acks = *r.ReplicaAcks
		if acks < 0 || acks > 16 {
			v.errorf(p+".replica_acks", "must be between 0 and 16")
		}
	}
	read, wait := r.ReadTimeout, r.ReplicaAckTimeout
	if read == 0 {
		read = 2 * time.Second
	}
	if wait == 0 {
		wait = 250 * time.Millisecond
	}
	if acks > 0 && wait >= read {
		v.errorf(p+".replica_ack_timeout", "must be shorter than read_timeout (%v)", read)
	}
	if replicated && r.ReplicaAcks != nil && acks == 0 {
		v.warnf(p+".replica_acks", "0 with Sentinel or Cluster: a failover can roll back sessions that were answered")
	}
}
