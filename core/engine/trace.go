package engine

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// startTurn opens the turn's span. Its attributes are the channel and the
// kind of input: never the channel user, the input's value or a choice
// beyond its ID space (typed text is a secret.String and never reaches it).
//
// With the no-op tracer (tracing off) there is no span: its attributes and
// its context value were a few allocations on every turn.
func (e *Engine) startTurn(ctx context.Context, t *Turn) (context.Context, trace.Span) {
	if e.tracingOff() {
		return ctx, noop.Span{}
	}
	return e.opt.Tracer.Start(ctx, "engine.turn", trace.WithAttributes(
		attribute.String("resetbot.channel", t.Channel),
		attribute.String("resetbot.input.kind", t.Input.Kind.String())))
}

// tracingOff reports the no-op tracer. Then no span is started at all:
// even a no-op span is a context value allocated per span, and a turn had
// two.
func (e *Engine) tracingOff() bool {
	_, off := e.opt.Tracer.(noop.Tracer)
	return off
}

// startStep opens the step's span (none with tracing off).
func (e *Engine) startStep(ctx context.Context) (context.Context, trace.Span) {
	if e.tracingOff() {
		return ctx, noop.Span{}
	}
	return e.opt.Tracer.Start(ctx, "engine.step")
}

// endTurn records where the conversation stands (flow, state, ended) and
// the reference ID the user saw, which finds the audit records and logs.
func endTurn(span trace.Span, r Reply) {
	if !span.IsRecording() {
		// Tracing off (or not sampled): the attributes would be built
		// only to be dropped, on every turn.
		span.End()
		return
	}
	span.SetAttributes(attribute.String("resetbot.ref", r.Ref), attribute.String("resetbot.flow", r.Flow),
		attribute.String("resetbot.state", StepState(r.State)), attribute.Bool("resetbot.ended", r.Ended))
	if r.Retry {
		span.SetAttributes(attribute.Bool("resetbot.retry", true))
	}
	if r.Last().MessageID == MsgError {
		span.SetStatus(codes.Error, "turn failed")
	}
	span.End()
}
