package redis_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/resetbot/resetbot/core/store/redis"
	"github.com/resetbot/resetbot/core/store/storetest"
	"github.com/resetbot/resetbot/internal/testserver"
)

// BenchmarkMemoryPerSession writes 10,000 typical sessions (a 300-byte record
// under "resetbot:sess:<22-char id>" with a 30 min TTL) to a fresh server and
// reports Redis memory per key two ways: MEMORY USAGE of one key
// (bytes/key) and the growth of used_memory divided by the key count
// (used_bytes/key, which includes the keyspace and expires dictionaries).
// The same is reported for attempt counters. The timed loop reads a session.
func BenchmarkMemoryPerSession(b *testing.B) {
	const n = 10000
	srv := testserver.StartRedis(b)
	ctx := context.Background()
	raw := goredis.NewClient(&goredis.Options{Addr: srv.Addr, DisableIdentity: true})
	defer raw.Close()
	s, err := redis.Open(ctx, redis.Config{Addrs: []string{srv.Addr}, KeyPrefix: "resetbot:"})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()

	val := []byte(strings.Repeat("s", storetest.SessionSize))
	id := func(i int) string { return fmt.Sprintf("sess:%022d", i) }
	perKey := func(write func(i int) error, sample string) (usage, used float64) {
		before := usedMemory(b, raw)
		for i := range n {
			if err := write(i); err != nil {
				b.Fatal(err)
			}
		}
		after := usedMemory(b, raw)
		u, err := raw.MemoryUsage(ctx, sample, 0).Result()
		if err != nil {
			b.Fatal(err)
		}
		return float64(u), float64(after-before) / n
	}
	usage, used := perKey(func(i int) error {
		_, err := s.Set(ctx, id(i), val, 30*time.Minute)
		return err
	}, "resetbot:"+id(0))
	cUsage, cUsed := perKey(func(i int) error {
		_, err := s.Incr(ctx, "fail:user"+strconv.Itoa(i), 1, time.Hour)
		return err
	}, "resetbot:fail:user0")

	for b.Loop() {
		if _, err := s.Get(ctx, id(7)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(usage, "bytes/key")
	b.ReportMetric(used, "used_bytes/key")
	b.ReportMetric(cUsage, "counter_bytes/key")
	b.ReportMetric(cUsed, "counter_used_bytes/key")
}

func usedMemory(b *testing.B, c *goredis.Client) int64 {
	b.Helper()
	info, err := c.Info(context.Background(), "memory").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatal("no used_memory in INFO")
	return 0
}
