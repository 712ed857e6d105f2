package engine_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/store"
	"github.com/resetbot/resetbot/core/store/memory"
	"github.com/resetbot/resetbot/core/store/redis"
	"github.com/resetbot/resetbot/internal/testserver"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testserver.StopShared()
	os.Exit(code)
}

// countHook counts the round trips a go-redis client makes: one per command
// sent alone, one per pipeline.
type countHook struct{ n atomic.Int64 }

func (h *countHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (h *countHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}
func (h *countHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmds)
	}
}

var benchPrefix atomic.Int64

// countedRedis opens a store on the shared test server whose client counts
// round trips.
func countedRedis(tb testing.TB) (*redis.Store, *countHook, *goredis.Client) {
	tb.Helper()
	addr := testserver.SharedRedis(tb)
	c := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1, ContextTimeoutEnabled: true, DisableIdentity: true})
	h := &countHook{}
	c.AddHook(h)
	s := redis.New(c, "eb"+strconv.FormatInt(benchPrefix.Add(1), 10)+":")
	tb.Cleanup(func() { _ = s.Close() })
	return s, h, goredis.NewClient(&goredis.Options{Addr: addr})
}

// conversation runs the test flow from start to end for one user: three
// turns, each with its own delivery ID.
func conversation(ctx context.Context, tb testing.TB, eng *engine.Engine, user string) {
	converse(ctx, tb, eng, user, false)
}

func converse(ctx context.Context, tb testing.TB, eng *engine.Engine, user string, noReplay bool) {
	steps := []engine.Input{text("test"), {Kind: engine.InputChoice, Choice: "a"}, digits("42")}
	for i, in := range steps {
		tn := engine.Turn{Channel: "console", ChannelUser: user, DeliveryID: user + "-" + strconv.Itoa(i), Input: in, NoReplay: noReplay}
		if r := eng.Handle(ctx, tn); len(r.Outputs) == 0 || r.Outputs[0].MessageID == engine.MsgError || r.Outputs[0].MessageID == engine.MsgBusy {
			tb.Fatalf("turn %d: %q", i, ids(r))
		}
	}
}

func benchEngine(b *testing.B, st store.Store) { benchTurns(b, st, false) }

func benchTurns(b *testing.B, st store.Store, noReplay bool) {
	tf := &testFlow{}
	eng, err := engine.New(engine.Options{Store: st, Flows: []*engine.Flow{tf.flow()}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		converse(ctx, b, eng, "U"+strconv.Itoa(i), noReplay)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(3*i), "ns/turn")
}

// BenchmarkTurn measures whole conversations (three turns each) against the
// memory store and a real redis-server, and reports Redis round trips and
// bytes left in Redis per turn.
func BenchmarkTurn(b *testing.B) {
	b.Run("memory", func(b *testing.B) { benchEngine(b, memory.New()) })
	for _, noReplay := range []bool{false, true} {
		name := "redis"
		if noReplay {
			name = "redis-noreplay"
		}
		b.Run(name, func(b *testing.B) { benchRedis(b, noReplay) })
	}
}

func benchRedis(b *testing.B, noReplay bool) {
	{
		st, hook, admin := countedRedis(b)
		defer admin.Close()
		before := usedMemory(b, admin)
		hook.n.Store(0)
		benchTurns(b, st, noReplay)
		turns := float64(3 * b.N)
		b.ReportMetric(float64(hook.n.Load())/turns, "roundtrips/turn")
		b.ReportMetric(float64(usedMemory(b, admin)-before)/turns, "redisB/turn")
	}
}

func usedMemory(tb testing.TB, c *goredis.Client) int64 {
	info, err := c.Info(context.Background(), "memory").Result()
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}
