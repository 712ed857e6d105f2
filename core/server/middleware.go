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
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

type ctxKey struct{}

// RequestID returns the ID the server gave the request carrying ctx, or "".
// Show it to users as a reference and log it with the cause.
func RequestID(ctx context.Context) string {
	if st, ok := ctx.Value(ctxKey{}).(*reqState); ok {
		return st.id
	}
	return ""
}

// reqState is what the server keeps for one request, in one allocation: the
// request's context (its parent's, which it extends with the request ID),
// the ID, the X-Request-Id header value and the status recorder. A context
// value, a header slice and a recorder each allocated on their own cost
// three allocations more per request.
type reqState struct {
	context.Context
	id       string
	idHeader [1]string
	rec      recorder
	raw      [8]byte
}

// Value answers the request ID key with the state itself (a pointer is
// stored in an interface without allocating) and every other key from the
// parent. Done, Err and Deadline are the parent's: the context package sees
// through to the parent's cancellation, so children cost no goroutine.
func (st *reqState) Value(key any) any {
	if _, ok := key.(ctxKey); ok {
		return st
	}
	return st.Context.Value(key)
}

// begin gives r a fresh random ID (an incoming X-Request-Id is not trusted:
// it could forge log correlation or inject into log lines), sets the
// X-Request-Id response header and returns the request's state, whose
// recorder wraps w. When no random bytes can be had it answers 500 and
// returns false.
func (s *Server) begin(w http.ResponseWriter, r *http.Request) (*reqState, bool) {
	st := &reqState{Context: r.Context()}
	if _, err := io.ReadFull(s.rand, st.raw[:]); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return nil, false
	}
	st.id = hex.EncodeToString(st.raw[:])
	st.idHeader[0] = st.id
	// The key is canonical, so this is Header.Set without the slice it
	// would allocate; the slice lives in st, used by this request only.
	w.Header()["X-Request-Id"] = st.idHeader[:]
	st.rec.ResponseWriter = w
	return st, true
}

// requestID gives every request an ID (see begin) carried by its context.
// The public handler does this in instrument, which needs the ID's context
// for its span: one request copy then carries both.
func (s *Server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, ok := s.begin(w, r)
		if !ok {
			return
		}
		next.ServeHTTP(&st.rec, r.WithContext(st))
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
		// requestID and instrument pass their recorder: it has seen every
		// status this one would see, so it is used rather than wrapped.
		rw, ok := w.(*recorder)
		if !ok {
			rw = &recorder{ResponseWriter: w}
		}
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

// preallocMax bounds the buffer ReadBody sizes from a declared
// Content-Length before any of the body has arrived: webhook bodies are a
// few KiB, and a client that declares a large body and sends nothing must
// not make every open request hold a large buffer (8 KiB each: 2 MiB at the
// default 256 requests in flight; a larger body grows as it arrives).
const preallocMax = 8 << 10

// ReadBody reads the whole request body. When the body exceeds the server's
// limit it answers 413 itself and returns ok=false; on other read errors it
// answers 400. Handlers return at once when ok is false.
func ReadBody(w http.ResponseWriter, r *http.Request) (body []byte, ok bool) {
	body, err := readAll(r.Body, r.ContentLength)
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

// readAll is io.ReadAll with its first buffer sized from the declared
// length (up to preallocMax), one byte over so that the end of the body is
// seen without growing it (io.ReadAll starts at 512 bytes and grows). The
// declared length is only a hint: whatever the reader yields is read, more
// or less, and limits are the reader's (http.MaxBytesReader).
func readAll(r io.Reader, declared int64) ([]byte, error) {
	if declared <= 0 {
		return io.ReadAll(r)
	}
	b := make([]byte, 0, min(declared, preallocMax)+1)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			if err == io.EOF { //nolint:errorlint // io.EOF is returned unwrapped, as io.ReadAll compares it
				err = nil
			}
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // longer than declared: grow
		}
	}
}

// Header values shared by every response. Header.Set allocates a slice per
// call; assigning these under their canonical keys does not. Nothing may
// write into them: net/http and httptest only read header values, replace
// a key's slice (Set) or append to it (Add), and an append to a slice whose
// length is its capacity copies it first.
var (
	valNosniff = []string{"nosniff"}
	valNoStore = []string{"no-store"}
	valOne     = []string{"1"}
)

// secureHeaders sets headers every webhook response should carry. The Go
// server sends no Server header, so no version leaks.
func (s *Server) secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["X-Content-Type-Options"] = valNosniff[:1:1]
		h["Cache-Control"] = valNoStore[:1:1]
		next.ServeHTTP(w, r)
	})
}

// spanStart are the options of every request's span: a new root (inbound
// trace headers come from the internet and are not trusted), server kind.
// Built once: the variadic slice and its boxed values escape per call.
var spanStart = []trace.SpanStartOption{trace.WithNewRoot(), trace.WithSpanKind(trace.SpanKindServer)}

// instrument counts requests by route and status and times them. Requests
// that match no route share one label so random paths cannot explode the
// series count. It reads r.Pattern, which the mux sets on this same request.
// It also gives the request its ID (begin, as requestID does), so that the
// ID and the span ride on one copy of the request.
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		st, ok := s.begin(w, r)
		if !ok {
			return
		}
		rw := &st.rec
		// A new root span per request (spanStart) when tracing is on.
		// Attributes: method, route pattern and status only, never the URL
		// (it may carry a token).
		var ctx context.Context = st
		var span trace.Span = noop.Span{}
		if s.cfg.Tracing {
			ctx, span = otel.Tracer("github.com/resetbot/resetbot/core/server").Start(st, "http.request", spanStart...)
		}
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
				// The pattern may name the method ("POST /slack/events");
				// the span name and http.route take its path part.
				path := route
				if _, p, ok := strings.Cut(route, " "); ok {
					path = p
				}
				span.SetName(r.Method + " " + path)
				span.SetAttributes(attribute.String("http.request.method", r.Method), attribute.String("http.route", path),
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
			w.Header()["Retry-After"] = valOne[:1:1]
			http.Error(w, "busy", http.StatusServiceUnavailable)
		}
	})
}
