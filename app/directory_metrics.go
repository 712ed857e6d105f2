package app

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/secret"
)

// dirMetrics times directory operations and counts their errors by the
// directory's configured name, the operation and a domain reason, and traces
// each call (span attributes: directory, operation, reason; never the user).
type dirMetrics struct {
	duration *prometheus.HistogramVec
	errors   *prometheus.CounterVec
	tr       trace.Tracer
}

func newDirMetrics(reg prometheus.Registerer, tr trace.Tracer) (*dirMetrics, error) {
	if reg == nil {
		if tr == nil {
			return nil, nil
		}
		return &dirMetrics{tr: tr}, nil
	}
	m := &dirMetrics{tr: tr,
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "resetbot_directory_operation_duration_seconds",
			Help:    "Directory operation latency, by directory and operation (find, status, reset, unlock).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"directory", "operation"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "resetbot_directory_errors_total",
			Help: "Directory operations that failed, by directory, operation and reason (unavailable, ambiguous, refused, held, protected, other).",
		}, []string{"directory", "operation", "reason"}),
	}
	for _, c := range []prometheus.Collector{m.duration, m.errors} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// wrap returns d instrumented under name; d itself when metrics are off.
func (m *dirMetrics) wrap(name string, d directory.Directory) directory.Directory {
	if m == nil {
		return d
	}
	return &timedDirectory{Directory: d, name: name, m: m}
}

// timedDirectory is a directory.Directory that records each call. It passes
// the optional Check and Close through.
type timedDirectory struct {
	directory.Directory
	name string
	m    *dirMetrics
}

var (
	_ directory.Checker = (*timedDirectory)(nil)
	_ directory.Closer  = (*timedDirectory)(nil)
)

// begin starts the span of one operation.
func (t *timedDirectory) begin(ctx context.Context, op string) (context.Context, trace.Span) {
	if t.m.tr == nil {
		return ctx, nil
	}
	return t.m.tr.Start(ctx, "directory."+op, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("resetbot.directory", t.name), attribute.String("resetbot.directory.operation", op)))
}

func (t *timedDirectory) observe(span trace.Span, op string, start time.Time, err error) {
	r := t.reason(err)
	if span != nil {
		if r != "" {
			span.SetAttributes(attribute.String("resetbot.directory.reason", r))
			span.SetStatus(codes.Error, r) // a reason, never the error text (it may quote a DN)
		}
		span.End()
	}
	if t.m.duration == nil {
		return
	}
	t.m.duration.WithLabelValues(t.name, op).Observe(time.Since(start).Seconds())
	if r != "" {
		t.m.errors.WithLabelValues(t.name, op, r).Inc()
	}
}

// reason classifies a failed operation; "" for success or a user not found
// (an answer, not a failure).
func (t *timedDirectory) reason(err error) string {
	if err == nil || errors.Is(err, directory.ErrNotFound) {
		return ""
	}
	r := "other"
	for _, c := range []struct {
		err    error
		reason string
	}{{directory.ErrUnavailable, "unavailable"}, {directory.ErrAmbiguous, "ambiguous"}, {directory.ErrRefused, "refused"},
		{directory.ErrHeld, "held"}, {directory.ErrProtected, "protected"}, {context.DeadlineExceeded, "timeout"}} {
		if errors.Is(err, c.err) {
			r = c.reason
			break
		}
	}
	return r
}

func (t *timedDirectory) Find(ctx context.Context, key directory.Key, value string) (_ []directory.User, err error) {
	ctx, span := t.begin(ctx, "find")
	defer func(s time.Time) { t.observe(span, "find", s, err) }(time.Now())
	return t.Directory.Find(ctx, key, value)
}

func (t *timedDirectory) Status(ctx context.Context, u directory.User) (_ directory.Status, err error) {
	ctx, span := t.begin(ctx, "status")
	defer func(s time.Time) { t.observe(span, "status", s, err) }(time.Now())
	return t.Directory.Status(ctx, u)
}

func (t *timedDirectory) ResetPassword(ctx context.Context, u directory.User, pw secret.String, o directory.ResetOptions) (err error) {
	ctx, span := t.begin(ctx, "reset")
	defer func(s time.Time) { t.observe(span, "reset", s, err) }(time.Now())
	return t.Directory.ResetPassword(ctx, u, pw, o)
}

func (t *timedDirectory) Unlock(ctx context.Context, u directory.User) (err error) {
	ctx, span := t.begin(ctx, "unlock")
	defer func(s time.Time) { t.observe(span, "unlock", s, err) }(time.Now())
	return t.Directory.Unlock(ctx, u)
}

// Check passes the inner directory's startup check through.
func (t *timedDirectory) Check(ctx context.Context) error {
	if c, ok := t.Directory.(directory.Checker); ok {
		return c.Check(ctx)
	}
	return nil
}

// Close passes the inner directory's Close through.
func (t *timedDirectory) Close() error {
	if c, ok := t.Directory.(directory.Closer); ok {
		return c.Close()
	}
	return nil
}

// List passes directory.Lister through, timed as one "list" operation.
func (t *timedDirectory) List(ctx context.Context, pageSize int, fn func([]directory.User) error) (err error) {
	l, ok := t.Directory.(directory.Lister)
	if !ok {
		return directory.ErrNotListable
	}
	ctx, span := t.begin(ctx, "list")
	defer func(s time.Time) { t.observe(span, "list", s, err) }(time.Now())
	return l.List(ctx, pageSize, fn)
}
