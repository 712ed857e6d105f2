package redis_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store"
	"github.com/resetbot/resetbot/core/store/redis"
	"github.com/resetbot/resetbot/core/store/storetest"
	"github.com/resetbot/resetbot/internal/testserver"
)

// quietLogger drops go-redis's own log lines ("failed to dial" while the
// fault tests have killed the server).
type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	goredis.SetLogger(quietLogger{})
	code := m.Run()
	testserver.StopShared()
	os.Exit(code)
}

var prefixes atomic.Int64

// openShared opens a store on the package's shared server with a fresh key prefix.
func openShared(t testing.TB) *redis.Store {
	t.Helper()
	addr := testserver.SharedRedis(t)
	prefix := "t" + strconv.FormatInt(prefixes.Add(1), 10) + ":"
	s, err := redis.Open(t.Context(), redis.Config{Addrs: []string{addr}, KeyPrefix: prefix})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openShared(t) })
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, openShared(b))
}

func TestOpenAuthFailureDoesNotLeakPassword(t *testing.T) {
	const pw = "correct-horse-battery"
	srv := testserver.StartRedis(t, "--requirepass", pw)
	ctx := t.Context()
	tests := []struct {
		name    string
		pw      string
		wantErr bool
	}{
		{"right password", pw, false},
		{"wrong password", "wrong-" + pw, true},
		{"no password", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := redis.Open(ctx, redis.Config{Addrs: []string{srv.Addr}, Password: secret.New(tc.pw)})
			if !tc.wantErr {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				_ = s.Close()
				return
			}
			if !errors.Is(err, store.ErrUnavailable) {
				t.Fatalf("Open = %v, want ErrUnavailable", err)
			}
			if tc.pw != "" && strings.Contains(err.Error(), tc.pw) {
				t.Fatalf("error leaks the password: %v", err)
			}
		})
	}
}

func TestOpenUnreachable(t *testing.T) {
	port := testserver.FreePort(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err := redis.Open(ctx, redis.Config{Addrs: []string{"127.0.0.1:" + strconv.Itoa(port)}, DialTimeout: 500 * time.Millisecond})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Open = %v, want ErrUnavailable", err)
	}
}

// TestServerDies kills redis-server under an open store: every operation must
// fail with ErrUnavailable (fail closed), promptly and without panicking.
func TestServerDies(t *testing.T) {
	srv := testserver.StartRedis(t)
	ctx := t.Context()
	s, err := redis.Open(ctx, redis.Config{Addrs: []string{srv.Addr}, DialTimeout: 500 * time.Millisecond, ReadTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Set(ctx, "sess:1", []byte("state"), time.Minute); err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	ops := []struct {
		name string
		op   func(context.Context) error
	}{
		{"Check", func(c context.Context) error { return s.Check(c) }},
		{"Get", func(c context.Context) error { _, err := s.Get(c, "sess:1"); return err }},
		{"CAS", func(c context.Context) error {
			_, err := s.CompareAndSwap(c, "sess:1", 1, []byte("x"), time.Minute)
			return err
		}},
		{"Set", func(c context.Context) error { _, err := s.Set(c, "sess:1", []byte("x"), time.Minute); return err }},
		{"Take", func(c context.Context) error { _, err := s.Take(c, "sess:1"); return err }},
		{"Delete", func(c context.Context) error { return s.Delete(c, "sess:1") }},
		{"Incr", func(c context.Context) error { _, err := s.Incr(c, "fail:1", 1, time.Minute); return err }},
		{"TTL", func(c context.Context) error { _, err := s.TTL(c, "sess:1"); return err }},
	}
	for _, tc := range ops {
		t.Run(tc.name, func(t *testing.T) {
			c, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := tc.op(c); !errors.Is(err, store.ErrUnavailable) {
				t.Fatalf("err = %v, want ErrUnavailable", err)
			}
		})
	}
}

// TestLayout checks the Redis layout other tools (and the memory benchmark)
// rely on: a record is a hash {v, n}, a counter a plain integer, both expire.
func TestLayout(t *testing.T) {
	addr := testserver.SharedRedis(t)
	c := goredis.NewClient(&goredis.Options{Addr: addr, DisableIdentity: true})
	defer c.Close()
	p := "layout" + strconv.FormatInt(prefixes.Add(1), 10) + ":"
	s := redis.New(goredis.NewClient(&goredis.Options{Addr: addr, DisableIdentity: true}), p)
	defer s.Close()
	ctx := t.Context()
	if _, err := s.Set(ctx, "rec", []byte("val"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Incr(ctx, "cnt", 7, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := c.HGetAll(ctx, p+"rec").Val(); got["v"] != "val" || got["n"] != "1" || len(got) != 2 {
		t.Fatalf("record hash = %v", got)
	}
	if got := c.Get(ctx, p+"cnt").Val(); got != "7" {
		t.Fatalf("counter = %q", got)
	}
	for _, k := range []string{p + "rec", p + "cnt"} {
		if d := c.PTTL(ctx, k).Val(); d <= 0 {
			t.Fatalf("%s has no TTL (%v)", k, d)
		}
	}
}

// TestErrorsDoNotEchoValues misuses a counter key as a record: the backend
// error must not contain the value that was being written.
func TestErrorsDoNotEchoValues(t *testing.T) {
	s := openShared(t)
	ctx := t.Context()
	if _, err := s.Incr(ctx, "c", 1, time.Minute); err != nil {
		t.Fatal(err)
	}
	const val = "hmac-of-one-time-code-4c9f"
	_, err := s.Set(ctx, "c", []byte(val), time.Minute)
	if err == nil {
		t.Fatal("Set on a counter key succeeded")
	}
	if strings.Contains(err.Error(), val) {
		t.Fatalf("error echoes the value: %v", err)
	}
}
