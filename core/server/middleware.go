package server

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"runtime/debug"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

type ctxKey struct{}

// RequestID returns the ID the server gave the request carrying ctx, or "".
// Show it to users as a reference and log it with the cause.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// requestID gives every request a fresh random ID (an incoming X-Request-Id
// is not trusted: it could forge log correlation or inject into log lines).
func (s *Server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 8)
		if _, err := io.ReadFull(s.rand, b); err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		id := hex.EncodeToString(b)
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, id)))
	})
}

// recorder remembers the status code and whether anything was written.
type recorder struct {
	http.ResponseWriter
	status int
}

func (rw *recorder) WriteHeader(code int) {
	if rw.status == 0 {
		rw.status = code
	}
	rw.ResponseWriter.WriteHeader(code)
}

func (rw *recorder) Write(b []byte) (int, error) {
	if rw.status == 0 {
		rw.status = http.StatusOK
	}
	return rw.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (rw *recorder) Unwrap() http.ResponseWriter { return rw.ResponseWriter }

// recoverPanics turns a handler panic into a 500 carrying the request ID. The
// log gets the stack and the panic's type, not its value: a panic message can
// quote a password or code. Runtime errors (nil dereference, bad index) carry
// no user data, so their text is logged.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &recorder{ResponseWriter: w}
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler { //nolint:errorlint // sentinel compared as documented
				panic(p)
			}
			what := fmt.Sprintf("%T", p)
			var re runtime.Error
			if err, ok := p.(error); ok && errors.As(err, &re) {
				what = re.Error()
			}
			id := RequestID(r.Context())
			s.log.Error("handler panic", "request_id", id, "route", r.Pattern, "panic", what, "stack", string(debug.Stack()))
			if rw.status == 0 {
				http.Error(rw, "internal error, reference "+id, http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(rw, r)
	})
}

// limitBody caps request bodies at MaxBodyBytes. A declared length over the
// cap is refused at once; a longer chunked body fails the handler's read
// with *http.MaxBytesError (see ReadBody).
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.cfg.MaxBodyBytes {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// ReadBody reads the whole request body. When the body exceeds the server's
// limit it answers 413 itself and returns ok=false; on other read errors it
// answers 400. Handlers return at once when ok is false.
func ReadBody(w http.ResponseWriter, r *http.Request) (body []byte, ok bool) {
	body, err := io.ReadAll(r.Body)
	if err == nil {
		return body, true
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
	} else {
		http.Error(w, "cannot read request body", http.StatusBadRequest)
	}
	return nil, false
}

// secureHeaders sets headers every webhook response should carry. The Go
// server sends no Server header, so no version leaks.
func (s *Server) secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// instrument counts requests by route and status and times them. Requests
// that match no route share one label so random paths cannot explode the
// series count. It reads r.Pattern, which the mux sets on this same request.
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rw := &recorder{ResponseWriter: w}
		// A new root span per request (inbound trace headers come from the
		// internet and are not trusted); the global provider is a no-op
		// unless tracing is configured. Attributes: method, route pattern
		// and status only, never the URL (it may carry a token).
		ctx, span := otel.Tracer("github.com/resetbot/resetbot/core/server").Start(r.Context(), "http.request",
			trace.WithNewRoot(), trace.WithSpanKind(trace.SpanKindServer))
		r = r.WithContext(ctx) // the mux sets Pattern on this request
		defer func() {
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			status := rw.status
			if status == 0 {
				status = http.StatusOK
			}
			if p := recover(); p != nil { // recoverPanics re-panicked ErrAbortHandler
				status = 499
				defer panic(p)
			}
			d := time.Since(start)
			if span.IsRecording() {
				span.SetName(r.Method + " " + route)
				span.SetAttributes(attribute.String("http.request.method", r.Method), attribute.String("http.route", route),
					attribute.Int("http.response.status_code", status))
			}
			span.End()
			s.metrics.observe(route, status, d.Seconds())
			if s.log.Enabled(r.Context(), slog.LevelDebug) {
				s.log.Debug("http request", "request_id", RequestID(r.Context()), "route", route,
					"status", status, "duration_ms", d.Milliseconds())
			}
		}()
		next.ServeHTTP(rw, r)
	})
}

// limitInflight sheds load before any work: with server.max_inflight
// requests already running, a webhook gets 503 and Retry-After at once,
// before its body is read or its signature checked, so that an overload
// costs neither memory nor CPU (Slack redelivers; Twilio takes its fallback
// URL). Health probes are never shed: a busy replica is not a dead one.
func (s *Server) limitInflight(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			next.ServeHTTP(w, r)
			return
		}
		select {
		case s.slots <- struct{}{}:
			defer func() { <-s.slots }()
			next.ServeHTTP(w, r)
		default:
			w.Header().Set("Retry-After", "1")
			http.Error(w, "busy", http.StatusServiceUnavailable)
		}
	})
}
