package twilio

import (
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/store/memory"
)

// TestMemoryKey: the store key of a caller's language is an HMAC of the
// number (the number is not in it, another key gives another HMAC), and
// withheld numbers or a memory turned off have none.
func TestMemoryKey(t *testing.T) {
	h := &Handler{cfg: Config{Store: nil, CallerKey: []byte("k1"), LanguageMemory: DefaultLanguageMemory}}
	if _, ok := h.memoryKey("+15555550142"); ok {
		t.Fatal("a key without a store")
	}
	h.cfg.Store = memory.New()
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
