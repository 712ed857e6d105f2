package regulation

import (
	"strconv"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/store/memory"
)

// Benchmarks on the memory store: the regulator's own cost plus map access.
// Over Redis each key costs one round trip for Check, two for Fail.

func BenchmarkCheck(b *testing.B) {
	reg := New(memory.New(), Limits{}, SendLimits{}, nil)
	user, chat, caller := User("uid=alice,ou=people,dc=example,dc=org"), ChannelUser("slack:T01:U123"), Caller("+15555550100")
	for range 3 {
		if _, err := reg.Fail(ctx, user, chat); err != nil {
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

func BenchmarkFail(b *testing.B) {
	reg := New(memory.New(), Limits{MaxFailures: 100, Window: time.Millisecond}, SendLimits{}, nil)
	i := 0
	for b.Loop() {
		if _, err := reg.Fail(ctx, User(strconv.Itoa(i%1000))); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkAllowSend(b *testing.B) {
	reg := New(memory.New(), Limits{}, SendLimits{PerDestinationPerHour: 1 << 30, PerUserPerHour: 1 << 30, GlobalPerHour: 1 << 30}, nil)
	for b.Loop() {
		if _, err := reg.AllowSend(ctx, "+15555550100", "uid=alice"); err != nil {
			b.Fatal(err)
		}
	}
}
