package redis_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/resetbot/resetbot/core/store"
	"github.com/resetbot/resetbot/core/store/redis"
	"github.com/resetbot/resetbot/internal/testserver"
)

// TestTurnAfterScriptFlush: a server that lost its scripts (a restart, a
// promoted replica) still runs every turn script, through EVAL, and then
// has them cached again.
func TestTurnAfterScriptFlush(t *testing.T) {
	s := openShared(t)
	ctx := t.Context()
	raw := goredis.NewClient(&goredis.Options{Addr: testserver.SharedRedis(t)})
	defer raw.Close()
	k := store.TurnKeys{Session: "sess:{f}", Lock: "lock:{f}", Delivery: "dlv:{f}:1", Owner: "o1"}
	flush := func() {
		if err := raw.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
	}
	flush()
	if a, err := s.AcquireTurn(ctx, k, time.Minute); err != nil || a.State != store.TurnAcquired {
		t.Fatalf("AcquireTurn = %v, %v", a.State, err)
	}
	flush()
	if err := s.RenewTurn(ctx, k, time.Minute); err != nil {
		t.Fatalf("RenewTurn: %v", err)
	}
	flush()
	if err := s.CommitTurn(ctx, k, store.Commit{Op: store.SessionPut, Value: []byte("v"), TTL: time.Hour, Outcome: []byte("out"), Keep: time.Hour}); err != nil {
		t.Fatalf("CommitTurn: %v", err)
	}
	if rec, err := s.Get(ctx, k.Session); err != nil || string(rec.Value) != "v" || rec.Version != 1 {
		t.Fatalf("Get = %q v%d, %v", rec.Value, rec.Version, err)
	}
	if a, err := s.AcquireTurn(ctx, store.TurnKeys{Session: k.Session, Lock: k.Lock, Delivery: k.Delivery, Owner: "o2"}, time.Minute); err != nil ||
		a.State != store.TurnDone || string(a.Outcome) != "out" {
		t.Fatalf("repeated delivery = %v %q, %v", a.State, a.Outcome, err)
	}
	if ok, err := raw.ScriptExists(ctx, redis.AcquireSHA()).Result(); err != nil || !ok[0] {
		t.Fatalf("acquire script not cached after the fallback: %v, %v", ok, err)
	}
}

// BenchmarkStoreTurn is one turn's store work on a real redis-server: the
// acquire script (with a delivery claim) and the commit script writing a
// session and recording an outcome. The owner and delivery ID change each
// turn, as they do in serve.
func BenchmarkStoreTurn(b *testing.B) {
	s := openShared(b)
	ctx := context.Background()
	val := make([]byte, 300)
	out := []byte(`{"ref":"x","outputs":[{"message_id":"menu"}]}`)
	var base uint64
	i := 0
	for b.Loop() {
		i++
		id := strconv.Itoa(i)
		k := store.TurnKeys{Session: "sess:{console:U1}", Lock: "lock:{console:U1}", Delivery: "dlv:{console:U1}:" + id, Owner: id}
		a, err := s.AcquireTurn(ctx, k, 30*time.Second)
		if err != nil || a.State != store.TurnAcquired {
			b.Fatal(a.State, err)
		}
		base = a.Session.Version
		err = s.CommitTurn(ctx, k, store.Commit{Op: store.SessionPut, Expect: base, Value: val, TTL: time.Hour,
			Outcome: out, Keep: time.Hour})
		if err != nil {
			b.Fatal(err)
		}
	}
}
