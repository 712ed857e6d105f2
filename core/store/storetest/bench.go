package storetest

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/store"
)

// SessionSize is the size of the value the benchmarks write: a typical
// serialised session record.
const SessionSize = 300

// Bench runs sub-benchmarks of the hot operations against s: Get, CAS (read the
// version, write the next one), Set, Incr and Take. Keys are prefixed with
// "bench:" and s should be empty or disposable.
func Bench(b *testing.B, s store.Store) {
	b.Helper()
	ctx := context.Background()
	val := make([]byte, SessionSize)
	for i := range val {
		val[i] = byte('a' + i%26)
	}
	b.Run("Get", func(b *testing.B) {
		if _, err := s.Set(ctx, "bench:get", val, time.Hour); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := s.Get(ctx, "bench:get"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("GetParallel", func(b *testing.B) {
		if _, err := s.Set(ctx, "bench:getp", val, time.Hour); err != nil {
			b.Fatal(err)
		}
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.Get(ctx, "bench:getp"); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("CAS", func(b *testing.B) {
		ver, err := s.Set(ctx, "bench:cas", val, time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if ver, err = s.CompareAndSwap(ctx, "bench:cas", ver, val, time.Hour); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Set", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Set(ctx, "bench:set", val, time.Hour); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Incr", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Incr(ctx, "bench:incr", 1, time.Hour); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("CreateTake", func(b *testing.B) {
		i := 0
		for b.Loop() {
			key := "bench:take:" + strconv.Itoa(i)
			i++
			if _, err := s.CompareAndSwap(ctx, key, 0, val[:64], time.Minute); err != nil {
				b.Fatal(err)
			}
			if _, err := s.Take(ctx, key); err != nil {
				b.Fatal(err)
			}
		}
	})
}
