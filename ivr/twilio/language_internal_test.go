package twilio

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/app"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/plugins"
)

// TestMemoryKey: the store key of a caller's language is an HMAC of the
// number (the number is not in it, another key gives another HMAC), and
// withheld numbers or a memory turned off have none.
func TestMemoryKey(t *testing.T) {
	h := &Handler{cfg: Config{Store: nil, CallerKey: []byte("k1"), LanguageMemory: DefaultLanguageMemory}}
	if _, ok := h.memoryKey("+15555550142"); ok {
		t.Fatal("a key without a store")
	}
	cfg := config.Default(plugins.All())
	a, err := app.Build(context.Background(), cfg, app.Options{Floor: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	h.cfg.Store = a.Store
	k1, ok := h.memoryKey("+15555550142")
	if !ok || strings.Contains(k1, "5555550142") || !strings.HasPrefix(k1, langKeyPrefix) {
		t.Fatalf("key %q (%v)", k1, ok)
	}
	h.cfg.CallerKey = []byte("k2")
	if k2, _ := h.memoryKey("+15555550142"); k2 == k1 {
		t.Fatal("the key does not depend on the HMAC key")
	}
	for _, from := range []string{"", "anonymous", "266696687", "+1"} {
		if _, ok := h.memoryKey(from); ok {
			t.Errorf("%q has a memory key", from)
		}
	}
	h.cfg.LanguageMemory = -1
	if _, ok := h.memoryKey("+15555550142"); ok {
		t.Fatal("a key with the memory turned off")
	}
}

// TestOpenPassesTheLanguageSettings: serve's wiring hands the IVR the
// store, the caller key and the language settings of the configuration.
func TestOpenPassesTheLanguageSettings(t *testing.T) {
	cfg := config.Default(plugins.All())
	cfg.Channels.Twilio.Numbers = map[string]string{"+34910000000": "es"}
	cfg.Channels.Twilio.LanguageMemory = -1
	a, err := app.Build(context.Background(), cfg, app.Options{Floor: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	c := configOf(a.ChannelDeps(slog.New(slog.DiscardHandler)), cfg.Channels.Twilio)
	if c.Store == nil || len(c.CallerKey) < 32 || c.Numbers["+34910000000"] != "es" || c.LanguageMemory != -1 {
		t.Fatalf("IVR config: store %v, key %d bytes, numbers %v, memory %v", c.Store != nil, len(c.CallerKey), c.Numbers, c.LanguageMemory)
	}
}
