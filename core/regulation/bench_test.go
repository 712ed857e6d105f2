package regulation

import (
	"strconv"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/store/memory"
)

// Benchmarks on the memory store: the regulator's own cost plus map access.
// Over Redis each key costs one round trip for Check, two for Attempt and
// two or three for Fail.

func BenchmarkCheck(b *testing.B) {
	reg := mustNew(b, Limits{}, SendLimits{})
	user, chat, caller := User("uid=alice,ou=people,dc=example,dc=org"), ChannelUser("slack:T01:U123"), Caller("+15555550100")
	for range 3 {
		if _, err := reg.Fail(ctx, user, chat); err != nil { // a streak, no ban
			b.Fatal(err)
		}
	}
	b.Run("1 key", func(b *testing.B) {
		for b.Loop() {
			if _, err := reg.Check(ctx, user); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("3 keys", func(b *testing.B) {
		for b.Loop() {
			if _, err := reg.Check(ctx, user, chat, caller); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel 1 key", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := reg.Check(ctx, user); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

func mustNew(b *testing.B, l Limits, s SendLimits) *Regulator {
	reg, err := New(memory.New(), testKey, l, s, nil)
	if err != nil {
		b.Fatal(err)
	}
	return reg
}

func BenchmarkFail(b *testing.B) {
	reg := mustNew(b, Limits{MaxFailures: 100, AccountMaxFailures: 100, Window: time.Millisecond}, SendLimits{})
	i := 0
	for b.Loop() {
		if _, err := reg.Fail(ctx, User(strconv.Itoa(i%1000))); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkAttempt is one attempt counted on three keys (identity, caller,
// account) and given back by a success: the gate every answer passes.
func BenchmarkAttempt(b *testing.B) {
	reg := mustNew(b, Limits{}, SendLimits{})
	keys := []Key{ChannelUser("slack:T01:U123"), Caller("+15555550100"), User("uid=alice").For("app")}
	for b.Loop() {
		if _, err := reg.Attempt(ctx, keys...); err != nil {
			b.Fatal(err)
		}
		if err := reg.Succeed(ctx, keys...); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAllowSend(b *testing.B) {
	reg := mustNew(b, Limits{}, SendLimits{PerDestinationPerHour: 1 << 30, PerUserPerHour: 1 << 30, GlobalPerHour: 1 << 30})
	for b.Loop() {
		if _, err := reg.AllowSend(ctx, "+15555550100", "uid=alice"); err != nil {
			b.Fatal(err)
		}
	}
}
