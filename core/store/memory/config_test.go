package memory_test

import (
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/plugin"
	"github.com/resetbot/resetbot/core/store"
	"github.com/resetbot/resetbot/core/store/memory"
)

// TestConfigDemoOnly: the memory store is refused in production by
// validation (at the type setting that chose it) and by Open, even when
// validation was bypassed.
func TestConfigDemoOnly(t *testing.T) {
	c := &memory.Config{}
	probs := plugin.Check(c, "store.memory", true)
	if len(probs) != 1 || probs[0].Path != "store.type" || !strings.Contains(probs[0].Message, "demo store") {
		t.Fatalf("production: %v", probs)
	}
	if probs := plugin.Check(c, "store.memory", false); len(probs) != 0 {
		t.Fatalf("demo: %v", probs)
	}
	if st, err := c.Open(t.Context(), store.Deps{Production: true}); st != nil || err == nil {
		t.Fatalf("Open in production = %v, %v", st, err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	st, err := c.Open(t.Context(), store.Deps{Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Set(t.Context(), "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if ttl, err := st.TTL(t.Context(), "k"); err != nil || ttl != time.Minute {
		t.Fatalf("TTL on the given clock = %v, %v", ttl, err)
	}
}
