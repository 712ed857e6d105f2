package main

import (
	"log/slog"
	"math"
	"runtime/debug"
	"testing"

	"github.com/resetbot/resetbot/core/config"
)

// TestApplyMemoryLimit: "auto" is 48 MiB, except with security questions
// (argon2id holds 128 MiB per check); an explicit size applies; "off" and
// an operator's GOMEMLIMIT leave the runtime's limit alone.
func TestApplyMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	log := slog.New(slog.DiscardHandler)
	for _, c := range []struct {
		limit, gomemlimit string
		factors           []string
		want              int64
	}{
		{"auto", "", []string{"totp", "sms"}, config.AutoMemoryLimit},
		{"auto", "", []string{"totp", "questions"}, math.MaxInt64},
		{"200MiB", "", []string{"totp", "questions"}, 200 << 20},
		{"off", "", []string{"totp"}, math.MaxInt64},
		{"auto", "100MiB", []string{"totp"}, math.MaxInt64}, // the runtime applied GOMEMLIMIT at start
	} {
		t.Setenv("GOMEMLIMIT", c.gomemlimit)
		debug.SetMemoryLimit(math.MaxInt64)
		cfg := &config.Config{Server: config.ServerConfig{MemoryLimit: c.limit}, Factors: config.FactorsConfig{Enabled: c.factors}}
		applyMemoryLimit(cfg, log)
		if got := debug.SetMemoryLimit(-1); got != c.want {
			t.Errorf("%s %v GOMEMLIMIT=%q: limit %d, want %d", c.limit, c.factors, c.gomemlimit, got, c.want)
		}
	}
}
