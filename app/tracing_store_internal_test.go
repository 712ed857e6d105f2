package app

import (
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/resetbot/resetbot/core/store/memory"
)

// TestTraceTurnsOnlyWhenTracing: with the no-op tracer (tracing off) the
// engine gets the store itself, with no span around its two calls a turn;
// with a real tracer it gets the traced view.
func TestTraceTurnsOnlyWhenTracing(t *testing.T) {
	st := memory.New()
	if got := traceTurns(st, noop.NewTracerProvider().Tracer("")); got != st {
		t.Errorf("tracing off: traceTurns wrapped the store (%T)", got)
	}
	if got := traceTurns(st, sdktrace.NewTracerProvider().Tracer("")); got == st {
		t.Error("tracing on: traceTurns did not wrap the store")
	} else if _, ok := got.(tracedTurns); !ok {
		t.Errorf("tracing on: %T, want tracedTurns", got)
	}
}
