package redis_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/resetbot/resetbot/core/store"
	"github.com/resetbot/resetbot/core/store/redis"
	"github.com/resetbot/resetbot/core/store/storetest"
	"github.com/resetbot/resetbot/internal/testserver"
)

// openPrefixed opens cfg with a fresh key prefix, closed in t.Cleanup.
func openPrefixed(t *testing.T, cfg redis.Config) *redis.Store {
	t.Helper()
	cfg.KeyPrefix = "t" + strconv.FormatInt(prefixes.Add(1), 10) + ":"
	s, err := redis.Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformanceCluster(t *testing.T) {
	// The test cluster has masters only: no replica could acknowledge a
	// commit (with acks on, every store would refuse commits for the grace
	// period first), and this suite is about the contract, not replication.
	none := 0
	cfg := redis.Config{Addrs: testserver.RedisCluster(t, 3), ReplicaAcks: &none}
	storetest.Run(t, func(t *testing.T) store.Store { return openPrefixed(t, cfg) })
}

func TestConformanceSentinel(t *testing.T) {
	ts := testserver.RedisSentinel(t)
	cfg := redis.Config{Addrs: []string{ts.Sentinel}, MasterName: ts.MasterName}
	storetest.Run(t, func(t *testing.T) store.Store { return openPrefixed(t, cfg) })
}

// TestSentinelFailover kills the primary under a Sentinel-configured store:
// operations fail with ErrUnavailable during the failover, then succeed on the
// promoted replica, which still holds what was written before.
func TestSentinelFailover(t *testing.T) {
	ts := testserver.RedisSentinel(t)
	ctx := t.Context()
	s, err := redis.Open(ctx, redis.Config{
		Addrs: []string{ts.Sentinel}, MasterName: ts.MasterName,
		DialTimeout: 300 * time.Millisecond, ReadTimeout: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Set(ctx, "enroll:alice", []byte("sealed"), 0); err != nil {
		t.Fatal(err)
	}
	// Make sure the write reached the replica before the crash.
	raw := goredis.NewClient(&goredis.Options{Addr: ts.Primary.Addr, DisableIdentity: true})
	if n, err := raw.Wait(ctx, 1, 5*time.Second).Result(); err != nil || n != 1 {
		t.Fatalf("WAIT = %d, %v", n, err)
	}
	_ = raw.Close()

	ts.Primary.Kill()
	deadline := time.Now().Add(30 * time.Second)
	failures := 0
	for {
		c, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := s.Incr(c, "probe", 1, time.Minute)
		cancel()
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("during failover: err = %v, want ErrUnavailable", err)
		}
		if failures++; time.Now().After(deadline) {
			t.Fatalf("no successful write %v after killing the primary: %v", 30*time.Second, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("writes failed %d times before the replica took over", failures)
	rec, err := s.Get(ctx, "enroll:alice")
	if err != nil || string(rec.Value) != "sealed" {
		t.Fatalf("after failover Get = %q, %v", rec.Value, err)
	}
}
