package redis_test

import (
	"context"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/resetbot/resetbot/internal/testserver"
)

// TestSetManyOneRoundTrip: a batch of writes lands, each readable with its
// ttl and a version as Set gives, in one round trip.
func TestSetManyOneRoundTrip(t *testing.T) {
	s := openShared(t)
	ctx := t.Context()
	// A first batch dials the connection and loads the script: not counted.
	if err := s.SetMany(ctx, []string{"b"}, [][]byte{[]byte("old")}, time.Hour); err != nil {
		t.Fatal(err)
	}
	before := s.Stats().RoundTrips
	keys := []string{"a", "b", "c"}
	if err := s.SetMany(ctx, keys, [][]byte{[]byte("1"), []byte("2"), []byte("3")}, time.Minute); err != nil {
		t.Fatalf("SetMany: %v", err)
	}
	if n := s.Stats().RoundTrips - before; n != 1 {
		t.Errorf("SetMany of 3 keys took %d round trips, want 1", n)
	}
	for i, k := range keys {
		rec, err := s.Get(ctx, k)
		if err != nil || string(rec.Value) != string(rune('1'+i)) || rec.Version == 0 {
			t.Errorf("Get(%s) = %q v%d, %v", k, rec.Value, rec.Version, err)
		}
		if ttl, err := s.TTL(ctx, k); err != nil || ttl <= 0 || ttl > time.Minute {
			t.Errorf("TTL(%s) = %v, %v; want (0, 1m]", k, ttl, err)
		}
	}
	if err := s.SetMany(ctx, keys, nil, time.Minute); err == nil {
		t.Error("SetMany with fewer values than keys: no error")
	}
}

// TestSetManyAfterScriptFlush: a server that lost its scripts (a restart, a
// promoted replica) still gets every write.
func TestSetManyAfterScriptFlush(t *testing.T) {
	s := openShared(t)
	raw := goredis.NewClient(&goredis.Options{Addr: testserver.SharedRedis(t)})
	defer raw.Close()
	if err := raw.ScriptFlush(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	keys := []string{"x", "y"}
	if err := s.SetMany(t.Context(), keys, [][]byte{[]byte("x1"), []byte("y1")}, time.Minute); err != nil {
		t.Fatalf("SetMany after SCRIPT FLUSH: %v", err)
	}
	for _, k := range keys {
		if rec, err := s.Get(t.Context(), k); err != nil || string(rec.Value) != k+"1" {
			t.Errorf("Get(%s) = %q, %v", k, rec.Value, err)
		}
	}
}
