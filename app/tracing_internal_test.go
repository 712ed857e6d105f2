package app

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"

	"github.com/resetbot/resetbot/core/config"
)

// TestTracingExportsOverOTLPHTTP: with tracing.otlp_endpoint set, a span
// reaches the collector as an OTLP/HTTP protobuf POST to /v1/traces when
// the app closes. `make test` runs it with the Makefile's GOFLAGS, so with
// the grpcnotrace tag the binary ships with.
func TestTracingExportsOverOTLPHTTP(t *testing.T) {
	var mu sync.Mutex
	var got []string
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type"))
		body = append(body, b...)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer srv.Close()
	prev, prevProp := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	t.Cleanup(func() { otel.SetTracerProvider(prev); otel.SetTextMapPropagator(prevProp) })

	a := &App{}
	cfg := &config.Config{Tracing: config.TracingConfig{Endpoint: srv.URL, SampleRatio: 1}}
	tr, err := a.tracer(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, span := tr.Start(context.Background(), "otlp-export-check")
	span.End()
	for _, c := range a.closers {
		if err := c(); err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0] != "POST /v1/traces application/x-protobuf" || !bytes.Contains(body, []byte("otlp-export-check")) {
		t.Fatalf("collector got %q (%d bytes), want one protobuf POST to /v1/traces with the span", got, len(body))
	}
}
