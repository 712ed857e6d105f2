package app

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/resetbot/resetbot/core/store"
)

// tracedTurns is the engine's view of the store with a span around each
// call. Spans name the operation only: keys hold user keys and HMACs of
// identifiers, and values hold sessions, so neither is an attribute.
type tracedTurns struct {
	store.Store
	turns store.Turns
	tr    trace.Tracer
}

// traceTurns wraps st for the engine. With the no-op tracer (tracing off)
// st is not wrapped: a no-op span still cost its options and a context
// value on each of a turn's two store calls.
func traceTurns(st store.Store, tr trace.Tracer) store.Store {
	turns, ok := st.(store.Turns)
	if _, off := tr.(noop.Tracer); !ok || tr == nil || off {
		return st
	}
	return tracedTurns{Store: st, turns: turns, tr: tr}
}

var _ store.Turns = tracedTurns{}

func (t tracedTurns) span(ctx context.Context, op string) (context.Context, trace.Span) {
	return t.tr.Start(ctx, "store."+op, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("resetbot.store.operation", op)))
}

// end records a failure by its kind, never by its text.
func end(span trace.Span, err error) {
	if err != nil {
		kind := "unavailable"
		switch {
		case errors.Is(err, store.ErrConflict):
			kind = "conflict"
		case errors.Is(err, store.ErrNotFound):
			kind = "not_found"
		case errors.Is(err, store.ErrLeaseLost):
			kind = "lease_lost"
		case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
			kind = "cancelled"
		}
		span.SetAttributes(attribute.String("resetbot.store.result", kind))
		if kind == "unavailable" || kind == "cancelled" {
			span.SetStatus(codes.Error, kind)
		}
	}
	span.End()
}

// AcquireTurn implements store.Turns.
func (t tracedTurns) AcquireTurn(ctx context.Context, k store.TurnKeys, lease time.Duration) (a store.Acquisition, err error) {
	ctx, span := t.span(ctx, "acquire_turn")
	defer func() { end(span, err) }()
	return t.turns.AcquireTurn(ctx, k, lease)
}

// RenewTurn implements store.Turns.
func (t tracedTurns) RenewTurn(ctx context.Context, k store.TurnKeys, lease time.Duration) (err error) {
	ctx, span := t.span(ctx, "renew_turn")
	defer func() { end(span, err) }()
	return t.turns.RenewTurn(ctx, k, lease)
}

// CommitTurn implements store.Turns.
func (t tracedTurns) CommitTurn(ctx context.Context, k store.TurnKeys, c store.Commit) (err error) {
	ctx, span := t.span(ctx, "commit_turn")
	defer func() { end(span, err) }()
	return t.turns.CommitTurn(ctx, k, c)
}
