package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/handoff"
	"github.com/resetbot/resetbot/core/handoff/api"
	"github.com/resetbot/resetbot/core/handoff/apikey"
	"github.com/resetbot/resetbot/core/store/memory"
)

// BenchmarkCreate measures POST /api/v1/handoffs end to end on the memory
// store (key lookup among 10 keys, rate limit, strict decoding, create,
// start, status update), with a no-op Starter.
func BenchmarkCreate(b *testing.B) {
	raw, _ := apikey.Generate(rand.Reader)
	var keys []apikey.Key
	for i := range 10 {
		k := raw
		if i > 0 {
			k, _ = apikey.Generate(rand.Reader)
		}
		h, _ := apikey.ParseHash(apikey.Hash(k))
		keys = append(keys, apikey.Key{ID: "k" + string(rune('a'+i)), Hash: h, Scopes: []apikey.Scope{apikey.ScopeCreate}})
	}
	mem := memory.New()
	lg := slog.New(slog.DiscardHandler)
	st := handoff.NewStore(mem, bytes.Repeat([]byte("h"), 32), handoff.Options{Log: lg})
	h := api.New(api.Options{Handoffs: st, Log: lg,
		Starter: handoff.StarterFunc(func(context.Context, handoff.Handoff) error { return nil }),
		Guard:   &apikey.Guard{Keys: apikey.New(keys...), Limiter: apikey.NewLimiter(mem, 1<<30), Log: lg}})
	auth := "Bearer " + raw.Reveal()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/handoffs", strings.NewReader(resetBody))
		r.Header.Set("Authorization", auth)
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusCreated {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
		_, _ = io.Copy(io.Discard, w.Body)
	}
}
