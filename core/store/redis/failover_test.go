package redis_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/resetbot/resetbot/core/plugin"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store"
	"github.com/resetbot/resetbot/core/store/redis"
	"github.com/resetbot/resetbot/internal/testserver"
)

// cmdLog records the names of the commands a client sends.
type cmdLog struct {
	mu    sync.Mutex
	names []string
}

func (l *cmdLog) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (l *cmdLog) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		l.add(cmd)
		return next(ctx, cmd)
	}
}
func (l *cmdLog) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		for _, c := range cmds {
			l.add(c)
		}
		return next(ctx, cmds)
	}
}
func (l *cmdLog) add(c goredis.Cmder) {
	l.mu.Lock()
	l.names = append(l.names, strings.ToLower(c.Name()))
	l.mu.Unlock()
}
func (l *cmdLog) joined() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.names, " ")
}

func turnKeys(owner string) store.TurnKeys {
	return store.TurnKeys{Session: "sess:{c}", Lock: "lock:{c}", Delivery: "dlv:{c}:" + owner, Owner: owner}
}

func commitOne(t *testing.T, s *redis.Store, owner, value string, expect uint64) {
	t.Helper()
	k := turnKeys(owner)
	if a, err := s.AcquireTurn(t.Context(), k, 5*time.Second); err != nil || a.State != store.TurnAcquired {
		t.Fatalf("acquire: %v %v", a.State, err)
	}
	c := store.Commit{Op: store.SessionPut, Expect: expect, Value: []byte(value), TTL: time.Hour, Outcome: []byte("r"), Keep: time.Minute}
	if err := s.CommitTurn(t.Context(), k, c); err != nil {
		t.Fatalf("commit: %v", err)
	}
}

// With Sentinel, a turn's commit waits for the replica (WAIT in the same
// round trip), so the session is on the replica when the turn answers.
func TestCommitWaitsForReplica(t *testing.T) {
	ts := testserver.RedisSentinel(t)
	// A generous ack timeout: on a loaded machine the replica can take longer
	// than the default to acknowledge, which is lag, not what this tests.
	s := openPrefixed(t, redis.Config{Addrs: []string{ts.Sentinel}, MasterName: ts.MasterName,
		ReplicaAckTimeout: 2 * time.Second, ReadTimeout: 4 * time.Second})
	log := &cmdLog{}
	redis.AddHook(s, log)
	commitOne(t, s, "A", "state-1", 0)
	if got := log.joined(); !strings.Contains(got, "evalsha wait") {
		t.Fatalf("commands %q: no WAIT after the commit", got)
	}
	if lag := s.Stats().ReplicaLag; lag != 0 {
		t.Fatalf("replica lag %d with a live replica", lag)
	}
	// The replica has it now, without waiting further.
	raw := goredis.NewClient(&goredis.Options{Addr: ts.Replica.Addr, DisableIdentity: true})
	defer raw.Close()
	keys, err := raw.Keys(t.Context(), "*sess:{c}").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("replica keys %v, %v", keys, err)
	}
}

// The moment of a planned Sentinel failover: the replica has been promoted
// (REPLICAOF NO ONE drops its link) while the old master still believes it
// is master and takes writes, which it will discard when Sentinel makes it
// a replica. A commit there must not be reported as committed; it is
// retried and then reported as unavailable, so the platform redelivers.
// Only when no commit has been acknowledged for the grace period (a replica
// down for good) are commits accepted unacknowledged, and counted.
func TestUnacknowledgedCommitIsNotCommitted(t *testing.T) {
	primary := testserver.StartRedis(t, "--repl-diskless-sync-delay", "0")
	_, port, _ := net.SplitHostPort(primary.Addr)
	replica := testserver.StartRedis(t, "--replicaof", "127.0.0.1", port)
	raw := goredis.NewClient(&goredis.Options{Addr: replica.Addr, DisableIdentity: true})
	defer raw.Close()
	for deadline := time.Now().Add(10 * time.Second); ; {
		if info, _ := raw.Info(t.Context(), "replication").Result(); strings.Contains(info, "master_link_status:up") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the replica never linked")
		}
		time.Sleep(20 * time.Millisecond)
	}
	one := 1
	s := openPrefixed(t, redis.Config{Addrs: []string{primary.Addr}, ReplicaAcks: &one,
		ReplicaAckTimeout: 500 * time.Millisecond, ReplicaAckGrace: time.Hour, RetryFor: 600 * time.Millisecond})
	// With the replica linked the commit is acknowledged (on a loaded
	// machine perhaps after a refused try or two, never accepted without).
	commitOne(t, s, "A", "state-1", 0)
	if st := s.Stats(); st.ReplicaLag != 0 {
		t.Fatalf("stats with a live replica: %+v", st)
	}
	k := turnKeys("B")
	if a, err := s.AcquireTurn(t.Context(), k, 5*time.Second); err != nil || a.Session.Version != 1 {
		t.Fatalf("acquire: %+v %v", a, err)
	}
	if err := raw.Do(t.Context(), "replicaof", "no", "one").Err(); err != nil {
		t.Fatal(err)
	}
	c := store.Commit{Op: store.SessionPut, Expect: 1, Value: []byte("state-2"), TTL: time.Hour, Outcome: []byte("r"), Keep: time.Minute}
	// The engine bounds a commit's retries (10 s); here 1.5 s will do.
	ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	defer cancel()
	err := s.CommitTurn(ctx, k, c)
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("unacknowledged commit: %v, want store.ErrUnavailable", err)
	}
	st := s.Stats()
	if st.Unacked < 2 || st.ReplicaLag != 0 || st.Retries == 0 {
		t.Fatalf("stats %+v: want the commit refused, retried and refused again, none accepted", st)
	}
	// Nor may a repeated delivery be told "done" from that commit, which
	// only the old master holds: acquiring waits for the replicas too.
	if a, err := s.AcquireTurn(t.Context(), k, 5*time.Second); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("acquire after the unacknowledged commit: %v %v, want store.ErrUnavailable", a.State, err)
	}
	// The same store with a short grace: the streak of refusals that began
	// above outlasts it, so the retried commit is now accepted and counted.
	lenient := openPrefixed(t, redis.Config{Addrs: []string{primary.Addr}, ReplicaAcks: &one,
		ReplicaAckTimeout: 50 * time.Millisecond, ReplicaAckGrace: 100 * time.Millisecond, RetryFor: time.Second})
	commitOne(t, lenient, "C", "state-1", 0)
	if st := lenient.Stats(); st.Unacked == 0 || st.ReplicaLag == 0 {
		t.Fatalf("stats after the grace: %+v, want refusals then one accepted", st)
	}
}

// A single server waits for no replica unless asked to.
func TestNoWaitWithoutReplicas(t *testing.T) {
	s := openShared(t)
	log := &cmdLog{}
	redis.AddHook(s, log)
	commitOne(t, s, "A", "v", 0)
	if strings.Contains(log.joined(), "wait") {
		t.Fatalf("WAIT sent to a single server: %q", log.joined())
	}
}

// A turn whose primary dies between acquire and commit commits on the
// promoted replica: the commit is retried across the failover.
func TestCommitRetriedAcrossFailover(t *testing.T) {
	ts := testserver.RedisSentinel(t)
	s := openPrefixed(t, redis.Config{Addrs: []string{ts.Sentinel}, MasterName: ts.MasterName,
		DialTimeout: 300 * time.Millisecond, ReadTimeout: 500 * time.Millisecond, RetryFor: 20 * time.Second})
	commitOne(t, s, "A", "state-1", 0)
	// The test is about the commit retried across a failover, so the
	// session must be on the replica before the primary dies. The commit's
	// WAIT is bounded by its ack timeout, which a loaded machine can run
	// out: then wait here for replication to catch up.
	raw := goredis.NewClient(&goredis.Options{Addr: ts.Replica.Addr, DisableIdentity: true})
	defer raw.Close()
	for deadline := time.Now().Add(10 * time.Second); ; {
		if keys, err := raw.Keys(t.Context(), "*sess:{c}").Result(); err == nil && len(keys) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the session never reached the replica")
		}
		time.Sleep(20 * time.Millisecond)
	}
	k := turnKeys("B")
	k.Delivery = "dlv:{c}:2"
	if a, err := s.AcquireTurn(t.Context(), k, 30*time.Second); err != nil || a.Session.Version != 1 {
		t.Fatalf("acquire: %+v %v", a, err)
	}
	ts.Primary.Kill()
	err := s.CommitTurn(t.Context(), k, store.Commit{Op: store.SessionPut, Expect: 1, Value: []byte("state-2"),
		TTL: time.Hour, Outcome: []byte("r2"), Keep: time.Minute})
	if err != nil {
		t.Fatalf("commit across the failover: %v", err)
	}
	rec, err := s.Get(t.Context(), "sess:{c}")
	if err != nil || string(rec.Value) != "state-2" || rec.Version != 2 {
		t.Fatalf("after failover: %q v%d %v", rec.Value, rec.Version, err)
	}
	if s.Stats().Retries == 0 {
		t.Fatal("no retry counted")
	}
}

// Every operator setting reaches go-redis, and acknowledgements default by
// topology.
func TestConfigReachesClient(t *testing.T) {
	two := 2
	c := redis.Config{Addrs: []string{"s:26379"}, MasterName: "m", SentinelUsername: "su", SentinelPassword: secret.New("sp"),
		DialTimeout: time.Second, ReadTimeout: 3 * time.Second, WriteTimeout: 4 * time.Second, PoolSize: 7,
		ReplicaAcks: &two, ReplicaAckTimeout: 100 * time.Millisecond}
	if err := plugin.Check(c, "store.redis", false).Err(); err != nil {
		t.Fatal(err)
	}
	o, err := redis.Options(c)
	if err != nil {
		t.Fatal(err)
	}
	if o.DialTimeout != time.Second || o.ReadTimeout != 3*time.Second || o.WriteTimeout != 4*time.Second ||
		o.PoolSize != 7 || o.SentinelUsername != "su" || o.SentinelPassword != "sp" {
		t.Fatalf("options %+v", o)
	}
	if c.Acks() != 2 {
		t.Fatalf("acks %d", c.Acks())
	}
	for _, tc := range []struct {
		c    redis.Config
		want int
	}{
		{redis.Config{Addrs: []string{"a:1"}}, 0},
		{redis.Config{Addrs: []string{"a:1"}, MasterName: "m"}, 1},
		{redis.Config{Addrs: []string{"a:1", "b:1"}}, 1},
	} {
		if got := tc.c.Acks(); got != tc.want {
			t.Errorf("%v: acks %d, want %d", tc.c.Addrs, got, tc.want)
		}
	}
	bad := c
	bad.ReplicaAckTimeout = 5 * time.Second
	if plugin.Check(bad, "store.redis", false).Err() == nil {
		t.Error("an ack timeout longer than the read timeout was accepted")
	}
}
