package app

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/notify"
)

// tracerName names resetbot's instrumentation scope.
const tracerName = "github.com/resetbot/resetbot"

// tracer returns the tracer for the app's own spans: from
// Options.TracerProvider when set (tests), from an OTLP exporter when
// tracing.otlp_endpoint is configured (then also installed as the global
// provider, which the HTTP server's spans use), else a no-op.
func (a *App) tracer(ctx context.Context, cfg *config.Config, opt Options) (trace.Tracer, error) {
	if opt.TracerProvider != nil {
		return opt.TracerProvider.Tracer(tracerName), nil
	}
	tc := cfg.Tracing
	if tc.Endpoint == "" {
		return noop.NewTracerProvider().Tracer(tracerName), nil
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(tc.Endpoint+"/v1/traces"))
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	res := sdkresource.NewSchemaless(attribute.String("service.name", "resetbot"))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(tc.SampleRatio))))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	a.tracing = true
	a.closers = append(a.closers, func() error { return tp.Shutdown(context.Background()) })
	return tp.Tracer(tracerName), nil
}

// Tracing reports whether traces are exported (tracing.otlp_endpoint):
// then the HTTP server starts a span per request (server.Settings.Tracing).
func (a *App) Tracing() bool { return a.tracing }

// tracedSender adds a span around a notifier send. The span names the
// delivery channel and the message kind only: never the destination, the
// body or the subject.
type tracedSender struct {
	notify.Sender
	channel string
	tr      trace.Tracer
}

// traceSenders wraps every sender; a no-op tracer costs nothing.
func traceSenders(in map[notify.Channel]notify.Sender, tr trace.Tracer) map[notify.Channel]notify.Sender {
	out := make(map[notify.Channel]notify.Sender, len(in))
	for ch, s := range in {
		out[ch] = tracedSender{Sender: s, channel: string(ch), tr: tr}
	}
	return out
}

// Send implements notify.Sender.
func (t tracedSender) Send(ctx context.Context, m notify.Message) error {
	ctx, span := t.tr.Start(ctx, "notify.send", trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(attribute.String("resetbot.notify.channel", t.channel)))
	defer span.End()
	err := t.Sender.Send(ctx, m)
	if err != nil {
		span.SetStatus(codes.Error, "send failed") // err text may name the destination
	}
	return err
}
