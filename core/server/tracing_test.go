package server_test

import (
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/resetbot/resetbot/core/server"
)

// TestRequestSpansOnlyWhenTracing: with Settings.Tracing a request gets one
// server span on the global provider, named by method and route and never
// carrying the URL's query; without it, none is started even though a
// provider is installed (tracing off must cost no span per request).
func TestRequestSpansOnlyWhenTracing(t *testing.T) {
	sr := tracetest.NewSpanRecorder()
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sr)))
	t.Cleanup(func() { otel.SetTracerProvider(prev) })
	var inside trace.SpanContext
	hook := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inside = trace.SpanContextFromContext(r.Context())
		w.WriteHeader(http.StatusAccepted)
	})

	off, _, _ := newServer(t, nil)
	off.Handle("POST /hook", hook)
	if rec := do(t, off.PublicHandler(), http.MethodPost, "/hook?token=SEKRIT", strings.NewReader("x")); rec.Code != http.StatusAccepted {
		t.Fatalf("POST /hook = %d", rec.Code)
	}
	if n := len(sr.Ended()); n != 0 || inside.IsValid() {
		t.Fatalf("tracing off: %d spans ended, span in the handler's context: %v", n, inside.IsValid())
	}

	on, _, _ := newServer(t, func(c *server.Settings) { c.Tracing = true })
	on.Handle("POST /hook", hook)
	do(t, on.PublicHandler(), http.MethodPost, "/hook?token=SEKRIT", strings.NewReader("x"))
	spans := sr.Ended()
	if len(spans) != 1 || spans[0].Name() != "POST /hook" || spans[0].SpanKind() != trace.SpanKindServer {
		var names []string
		for _, s := range spans {
			names = append(names, s.Name()+" "+s.SpanKind().String())
		}
		t.Fatalf("tracing on: spans %q, want one server span POST /hook", names)
	}
	if !inside.IsValid() || inside.SpanID() != spans[0].SpanContext().SpanID() {
		t.Errorf("the handler's context does not carry the request span")
	}
	route := ""
	for _, a := range spans[0].Attributes() {
		if strings.Contains(a.Value.Emit(), "SEKRIT") {
			t.Errorf("attribute %s carries the query", a.Key)
		}
		if a.Key == "http.route" {
			route = a.Value.Emit()
		}
	}
	if route != "/hook" {
		t.Errorf("http.route = %q, want the pattern's path /hook", route)
	}
}
