package redis

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/resetbot/resetbot/core/plugin"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store"
)

// Defaults applied by Open when a Config field is zero.
const (
	DefaultDialTimeout = 2 * time.Second
	DefaultReadTimeout = 2 * time.Second
	// DefaultPoolSize is the connections per node. Every turn waits on
	// Redis twice, and a replica runs many turns at once (Slack workers,
	// phone webhooks up to server.max_inflight): go-redis's own default,
	// 10 per GOMAXPROCS, is 10 on a one-CPU container, which capped a
	// replica at 10 ÷ round-trip time under load (in the load test, at a
	// few hundred turns/s once Redis slowed to ~20 ms).
	DefaultPoolSize = 64
)

// Config selects and authenticates a Redis deployment. The topology follows
// go-redis UniversalClient: MasterName set means Sentinel (Addrs are the
// sentinels); two or more Addrs or Cluster means Redis Cluster; otherwise a
// single server.
type Config struct {
	// Addrs are host:port pairs: the server, the sentinels or cluster seeds.
	Addrs []string `yaml:"addrs"`
	// MasterName is the Sentinel master set name; empty without Sentinel.
	MasterName string `yaml:"master_name"`
	// Cluster forces cluster mode with a single seed address.
	Cluster bool `yaml:"cluster"`
	// Username and Password authenticate to Redis (ACL user; prefer a
	// least-privilege user over "default").
	Username string        `yaml:"username"`
	Password secret.String `yaml:"password"`
	// SentinelUsername and SentinelPassword authenticate to the sentinels when
	// they require it.
	SentinelUsername string        `yaml:"sentinel_username"`
	SentinelPassword secret.String `yaml:"sentinel_password"`
	// DB is the database number; it must be 0 for Redis Cluster.
	DB int `yaml:"db"`
	// TLS enables TLS 1.2+ with certificate verification (system roots, or
	// CAFile). ServerName overrides the name checked in the certificate.
	// TLS is required in production unless AllowPlain accepts clear text.
	TLS        bool   `yaml:"tls"`
	AllowPlain bool   `yaml:"allow_plain"`
	CAFile     string `yaml:"ca_file"`
	ServerName string `yaml:"server_name"`
	// KeyPrefix is prepended to every key, e.g. "resetbot:".
	KeyPrefix string `yaml:"key_prefix"`
	// DialTimeout, ReadTimeout and WriteTimeout bound connects, replies and
	// writes (defaults DefaultDialTimeout, DefaultReadTimeout; WriteTimeout
	// defaults to ReadTimeout).
	DialTimeout  time.Duration `yaml:"dial_timeout"`
	ReadTimeout  time.Duration `yaml:"read_timeout"`
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// PoolSize is the connection pool size per node (0: DefaultPoolSize).
	PoolSize int `yaml:"pool_size"`
	// ReplicaAcks is how many replicas must acknowledge a turn's commit
	// (Redis WAIT) before the turn answers, so a failover does not roll the
	// session back. nil means the default: 1 with Sentinel or Cluster, 0
	// (no WAIT) with a single server. ReplicaAckTimeout bounds the wait
	// (default DefaultReplicaAckTimeout). A commit not acknowledged in time
	// is not committed: it is retried, then the turn is reported as failed
	// so the platform redelivers — until no commit has been acknowledged for
	// ReplicaAckGrace in a row (default DefaultReplicaAckGrace; a replica
	// down for good), after which commits are accepted unacknowledged and
	// counted in Stats.ReplicaLag.
	ReplicaAcks       *int          `yaml:"replica_acks"`
	ReplicaAckTimeout time.Duration `yaml:"replica_ack_timeout"`
	ReplicaAckGrace   time.Duration `yaml:"replica_ack_grace"`
	// RetryFor bounds how long the idempotent turn steps are retried across
	// a failover (default DefaultRetryFor; never past the caller's deadline).
	RetryFor time.Duration `yaml:"retry_for"`
}

// DefaultReplicaAckTimeout bounds WAIT when ReplicaAcks is on.
const DefaultReplicaAckTimeout = 250 * time.Millisecond

// DefaultReplicaAckGrace is how long commits are refused while no replica
// acknowledges them. It outlasts the moment of a Sentinel failover in which
// the old master still takes writes (about 1 s until Sentinel announces the
// new master and clients switch), so nothing written then is answered.
const DefaultReplicaAckGrace = 5 * time.Second

// Acks returns the replica acknowledgements to wait for: ReplicaAcks, or
// its default for the topology.
func (c Config) Acks() int {
	switch {
	case c.ReplicaAcks != nil:
		return *c.ReplicaAcks
	case c.MasterName != "" || c.isCluster():
		return 1
	}
	return 0
}

// DefaultKeyPrefix namespaces every key when store.redis.key_prefix is
// left out.
const DefaultKeyPrefix = "resetbot:"

// DefaultConfig is the configuration store.redis starts from: the settings
// a file leaves out keep these values (the rest default in Open).
func DefaultConfig() *Config {
	return &Config{KeyPrefix: DefaultKeyPrefix, DialTimeout: DefaultDialTimeout, ReadTimeout: DefaultReadTimeout,
		ReplicaAckTimeout: DefaultReplicaAckTimeout, ReplicaAckGrace: DefaultReplicaAckGrace, RetryFor: DefaultRetryFor}
}

var _ store.Opener = (*Config)(nil)

// NewConfig is the Redis store's registry entry (store.type: redis):
// DefaultConfig as a plug-in configuration.
func NewConfig() plugin.Config { return DefaultConfig() }

// Validate reports every problem with c under path (store.redis). It is the
// only validation of these settings: check-config runs it through the
// configuration framework, and Open runs it again through plugin.Check.
func (c Config) Validate(ck plugin.Checker, path string) {
	if len(c.Addrs) == 0 {
		ck.Errorf(path+".addrs", "needs at least one host:port")
	}
	for i, a := range c.Addrs {
		if !validHostPort(a) {
			ck.Errorf(fmt.Sprintf("%s.addrs[%d]", path, i), "must be host:port")
		}
	}
	if c.DB < 0 || c.DB > 15 {
		ck.Errorf(path+".db", "must be between 0 and 15")
	}
	if c.DB != 0 && c.isCluster() {
		ck.Errorf(path+".db", "must be 0 for Redis Cluster")
	}
	if c.Cluster && c.MasterName != "" {
		ck.Errorf(path+".cluster", "cannot be combined with master_name (Sentinel)")
	}
	c.validateTiming(ck, path)
	if !c.TLS {
		switch {
		case c.AllowPlain:
			ck.Warnf(path+".tls", "TLS is off: codes, sessions and counters cross the network in clear text")
		case ck.Production():
			ck.Errorf(path+".tls", "must be true in production (or set allow_plain to accept clear text)")
		}
	}
	// A CA or a server name without TLS would be silently unused.
	if !c.TLS && c.CAFile != "" {
		ck.Errorf(path+".ca_file", "needs tls: true (a CA is only used for TLS); set tls or remove ca_file")
	}
	if !c.TLS && c.ServerName != "" {
		ck.Errorf(path+".server_name", "needs tls: true (it names the TLS certificate); set tls or remove server_name")
	}
	ck.FileExists(path+".ca_file", c.CAFile)
}

// validateTiming checks the timeouts, the pool and the replica
// acknowledgements.
func (c Config) validateTiming(ck plugin.Checker, path string) {
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"dial_timeout", c.DialTimeout}, {"read_timeout", c.ReadTimeout}, {"write_timeout", c.WriteTimeout},
		{"replica_ack_timeout", c.ReplicaAckTimeout}, {"replica_ack_grace", c.ReplicaAckGrace}, {"retry_for", c.RetryFor}} {
		if d.v < 0 {
			ck.Errorf(path+"."+d.key, "must not be negative")
		}
	}
	if c.PoolSize < 0 {
		ck.Errorf(path+".pool_size", "must not be negative")
	}
	if c.ReplicaAcks != nil && (*c.ReplicaAcks < 0 || *c.ReplicaAcks > 16) {
		ck.Errorf(path+".replica_acks", "must be between 0 and 16")
	}
	read := cmp.Or(c.ReadTimeout, DefaultReadTimeout)
	if c.Acks() > 0 && cmp.Or(c.ReplicaAckTimeout, DefaultReplicaAckTimeout) >= read {
		ck.Errorf(path+".replica_ack_timeout", "must be shorter than read_timeout (%v)", read)
	}
	replicated := c.MasterName != "" || c.isCluster()
	if replicated && c.ReplicaAcks != nil && *c.ReplicaAcks == 0 {
		ck.Warnf(path+".replica_acks", "0 with Sentinel or Cluster: a failover can roll back sessions that were answered")
	}
}

// validHostPort reports whether a is host:port.
func validHostPort(a string) bool {
	_, port, err := net.SplitHostPort(a)
	return err == nil && port != ""
}

// Open opens the store from the configuration (store.Opener). A plain
// connection is refused in production unless allow_plain is set.
func (c Config) Open(ctx context.Context, deps store.Deps) (store.Store, error) {
	return open(ctx, c, deps.Production)
}

func (c Config) isCluster() bool {
	return c.MasterName == "" && (c.Cluster || len(c.Addrs) > 1)
}

// Open validates cfg, connects and PINGs the server, so a misconfiguration
// fails at startup. Close the store when done.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	return open(ctx, cfg, false)
}

func open(ctx context.Context, cfg Config, production bool) (*Store, error) {
	if err := plugin.Check(cfg, "store.redis", production).Err(); err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	opts, err := cfg.options()
	if err != nil {
		return nil, err
	}
	s := New(goredis.NewUniversalClient(opts), cfg.KeyPrefix)
	s.acks, s.ackTimeout = cfg.Acks(), cmp.Or(cfg.ReplicaAckTimeout, DefaultReplicaAckTimeout)
	s.ackGrace = cmp.Or(cfg.ReplicaAckGrace, DefaultReplicaAckGrace)
	s.retryFor = cmp.Or(cfg.RetryFor, DefaultRetryFor)
	if err := s.Check(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// connBuffer is each connection's read and write buffer size (see options).
const connBuffer = 8 << 10

func (c Config) options() (*goredis.UniversalOptions, error) {
	dial, read := cmp.Or(c.DialTimeout, DefaultDialTimeout), cmp.Or(c.ReadTimeout, DefaultReadTimeout)
	write := cmp.Or(c.WriteTimeout, read)
	o := &goredis.UniversalOptions{
		Addrs:            c.Addrs,
		MasterName:       c.MasterName,
		IsClusterMode:    c.Cluster,
		Username:         c.Username,
		Password:         c.Password.Reveal(),
		SentinelUsername: c.SentinelUsername,
		SentinelPassword: c.SentinelPassword.Reveal(),
		DB:               c.DB,
		DialTimeout:      dial,
		ReadTimeout:      read,
		WriteTimeout:     write,
		PoolSize:         cmp.Or(c.PoolSize, DefaultPoolSize),
		// go-redis gives every connection 32 KiB read and write buffers
		// (128 KiB each on its pipeline connections): 4 MiB of heap for a
		// pool of 64, kept live and doubled by the GC's headroom. A turn's
		// commands and replies are a few hundred bytes to a few KiB, and a
		// larger reply is read past the buffer, so 8 KiB loses nothing.
		ReadBufferSize:          connBuffer,
		WriteBufferSize:         connBuffer,
		PipelineReadBufferSize:  2 * connBuffer,
		PipelineWriteBufferSize: 2 * connBuffer,
		// Let ctx deadlines bound socket reads and writes too.
		ContextTimeoutEnabled: true,
		// No CLIENT SETINFO on connect: ACL users limited to the store's
		// commands would be refused it.
		DisableIdentity: true,
		// CAS, Take and Incr are not idempotent: a blind retry after a timeout
		// could apply them twice, so a failed command is reported, not retried.
		MaxRetries: -1,
		// Maintenance notifications are a Redis Cloud feature.
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	}
	if c.TLS {
		tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.ServerName}
		if c.CAFile != "" {
			pem, err := os.ReadFile(c.CAFile)
			if err != nil {
				return nil, fmt.Errorf("redis: ca_file: %w", err)
			}
			tc.RootCAs = x509.NewCertPool()
			if !tc.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("redis: ca_file %s: no PEM certificates", c.CAFile)
			}
		}
		o.TLSConfig = tc
	} else {
		// go-redis's own dialer, with the connections skipping the pool's
		// health check shortly after a reply (freshConn).
		o.Dialer = dialFresh(dial)
	}
	return o, nil
}

// errUnavailable wraps a backend failure so callers can test for store.ErrUnavailable.
func errUnavailable(err error) error {
	return fmt.Errorf("%w: redis: %w", store.ErrUnavailable, err)
}
