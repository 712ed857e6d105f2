package regulation

import (
	"os"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/resetbot/resetbot/core/store/bolt"
	"github.com/resetbot/resetbot/core/store/redis"
	"github.com/resetbot/resetbot/internal/testserver"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testserver.StopShared()
	os.Exit(code)
}

var redisPrefixes atomic.Int64

// TestConcurrentGuessesRedis plays the concurrent-guess attack against a
// real redis-server (the production store): Incr is atomic there too.
func TestConcurrentGuessesRedis(t *testing.T) {
	addr := testserver.SharedRedis(t)
	st, err := redis.Open(t.Context(), redis.Config{Addrs: []string{addr},
		KeyPrefix: "reg" + strconv.FormatInt(redisPrefixes.Add(1), 10) + ":"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	reg, err := New(st, testKey, Limits{}, SendLimits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertGuessesHeld(t, "redis", reg)
}

// TestConcurrentGuessesBolt plays the same attack on the bbolt store (a
// single replica's persistent store).
func TestConcurrentGuessesBolt(t *testing.T) {
	st, err := bolt.Open(t.TempDir() + "/reg.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	reg, err := New(st, testKey, Limits{}, SendLimits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertGuessesHeld(t, "bolt", reg)
}

// assertGuessesHeld plays 60 concurrent guesses against one account on reg
// and fails unless at most the limit were checked and exactly one ban
// started when the limit was reached.
func assertGuessesHeld(t *testing.T, store string, reg *Regulator) {
	t.Helper()
	checked, started := concurrentGuesses(t, reg, 60)
	t.Logf("%s: %d of 60 checked, %d bans started", store, checked, started)
	if checked > DefaultAccountMaxFailures || checked == 0 {
		t.Fatalf("%d guesses checked, limit %d", checked, DefaultAccountMaxFailures)
	}
	if checked == DefaultAccountMaxFailures && started != 1 {
		t.Fatalf("%d bans started, want 1", started)
	}
}
