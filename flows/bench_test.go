package flows_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/store"
	"github.com/resetbot/resetbot/core/store/bolt"
	"github.com/resetbot/resetbot/core/store/redis"
	"github.com/resetbot/resetbot/flows"
	"github.com/resetbot/resetbot/internal/testserver"
)

// BenchmarkTurn measures one engine turn of the real reset flow on each
// store: claim the delivery ID, take the session lock, load the session,
// rebuild the FSM, handle a menu choice, prompt, save with compare-and-swap,
// store the reply for duplicate deliveries, release the lock.
func BenchmarkTurn(b *testing.B) {
	stores := map[string]func(b *testing.B) store.Store{
		"memory": func(*testing.B) store.Store { return nil },
		"bolt": func(b *testing.B) store.Store {
			s, err := bolt.Open(filepath.Join(b.TempDir(), "state.db"))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = s.Close() })
			return s
		},
		"redis": func(b *testing.B) store.Store {
			s, err := redis.Open(context.Background(), redis.Config{Addrs: []string{testserver.Redis(b)}})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = s.Close() })
			return s
		},
	}
	for _, name := range []string{"memory", "bolt", "redis"} {
		b.Run(name, func(b *testing.B) {
			h := newHarnessOn(b, stores[name](b))
			ctx := context.Background()
			turn := func(in engine.Input, id string) engine.Reply {
				return h.eng.Handle(ctx, engine.Turn{Channel: "slack", ChannelUser: "U1", DeliveryID: id, Input: in})
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if i%50 == 0 { // a conversation is bounded to 60 turns: start a fresh one
					b.StopTimer()
					turn(engine.Input{Kind: engine.InputCancel}, "")
					turn(start(flows.FlowReset), "")
					turn(text("amartin"), "")
					b.StartTimer()
				}
				if r := turn(choice("nope"), "d"+strconv.Itoa(i)); r.State != "verify_factor" {
					b.Fatalf("state %s", r.State)
				}
			}
		})
	}
}

// BenchmarkRedisBytesPerSession reports what one conversation waiting for a
// code costs in Redis: the session record alone, and everything the
// conversation left there (session, code challenge, send budgets, stored
// replies of deduplicated deliveries).
func BenchmarkRedisBytesPerSession(b *testing.B) {
	addr := testserver.Redis(b)
	ctx := context.Background()
	raw := goredis.NewClient(&goredis.Options{Addr: addr, DisableIdentity: true})
	defer raw.Close()
	s, err := redis.Open(ctx, redis.Config{Addrs: []string{addr}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	h := newHarnessOn(b, s)
	used := func() int64 {
		info, err := raw.Info(ctx, "memory").Result()
		if err != nil {
			b.Fatal(err)
		}
		for _, l := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(l, "used_memory:"); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				return n
			}
		}
		return 0
	}
	const n = 500
	before := used()
	for i := range n {
		u := fmt.Sprintf("U%05d", i)
		for j, in := range []engine.Input{start(flows.FlowReset), text("amartin"), choice("email")} {
			h.eng.Handle(ctx, engine.Turn{Channel: "slack", ChannelUser: u, DeliveryID: fmt.Sprintf("%s-%d", u, j), Input: in})
		}
	}
	total := float64(used()-before) / n
	keys, err := raw.Keys(ctx, "*sess:slack:U00001").Result()
	if err != nil || len(keys) != 1 {
		b.Fatalf("session key: %v %v", keys, err)
	}
	rec, err := raw.MemoryUsage(ctx, keys[0], 0).Result()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.Get(ctx, engine.SessionKey("slack", "U00001")); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rec), "session-bytes")
	b.ReportMetric(total, "conversation-bytes")
}
