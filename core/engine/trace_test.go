package engine_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/store"
	"github.com/resetbot/resetbot/core/store/memory"
)

// spanSeer is a memory store that records whether the turn's store calls
// ran under a span (any span in the context, no-op ones included).
type spanSeer struct {
	*memory.Store
	underSpan, calls atomic.Int32
}

func (s *spanSeer) AcquireTurn(ctx context.Context, k store.TurnKeys, lease time.Duration) (store.Acquisition, error) {
	s.see(ctx)
	return s.Store.AcquireTurn(ctx, k, lease)
}

func (s *spanSeer) CommitTurn(ctx context.Context, k store.TurnKeys, c store.Commit) error {
	s.see(ctx)
	return s.Store.CommitTurn(ctx, k, c)
}

func (s *spanSeer) see(ctx context.Context) {
	s.calls.Add(1)
	// With no span in the context, SpanFromContext returns the trace
	// package's own empty span: neither recording nor a noop.Span, which
	// is what a no-op tracer's Start puts in the context.
	span := trace.SpanFromContext(ctx)
	if _, noopSpan := span.(noop.Span); noopSpan || span.IsRecording() {
		s.underSpan.Add(1)
	}
}

// TestNoSpansWhenTracingOff: with the default (no-op) tracer a turn starts
// no span, not even a no-op one (each was a context value allocated per
// turn); with a real tracer the turn and its step are spans and the store
// calls run under them.
func TestNoSpansWhenTracingOff(t *testing.T) {
	run := func(tr trace.Tracer) *spanSeer {
		st := &spanSeer{Store: memory.New()}
		eng, err := engine.New(engine.Options{Store: st, Flows: []*engine.Flow{(&testFlow{}).flow()}, Words: testWords, Tracer: tr})
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range []engine.Input{text("test"), text("zzz")} {
			eng.Handle(t.Context(), turn(in))
		}
		return st
	}
	off := run(nil)
	if off.calls.Load() == 0 || off.underSpan.Load() != 0 {
		t.Errorf("tracing off: %d of %d store calls under a span, want 0", off.underSpan.Load(), off.calls.Load())
	}
	sr := tracetest.NewSpanRecorder()
	on := run(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr)).Tracer("test"))
	if on.underSpan.Load() != on.calls.Load() || on.calls.Load() == 0 {
		t.Errorf("tracing on: %d of %d store calls under a span, want all", on.underSpan.Load(), on.calls.Load())
	}
	names := map[string]int{}
	for _, s := range sr.Ended() {
		names[s.Name()]++
	}
	if names["engine.turn"] != 2 || names["engine.step"] != 2 {
		t.Errorf("tracing on: spans %v, want two engine.turn and two engine.step", names)
	}
}
