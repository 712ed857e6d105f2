package app

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/secret"
)

// dirMetrics times directory operations and counts their errors by the
// directory's configured name, the operation and a domain reason.
type dirMetrics struct {
	duration *prometheus.HistogramVec
	errors   *prometheus.CounterVec
}

func newDirMetrics(reg prometheus.Registerer) (*dirMetrics, error) {
	if reg == nil {
		return nil, nil
	}
	m := &dirMetrics{
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

func (t *timedDirectory) observe(op string, start time.Time, err error) {
	t.m.duration.WithLabelValues(t.name, op).Observe(time.Since(start).Seconds())
	// A user not found is an answer, not an operation failure.
	if err == nil || errors.Is(err, directory.ErrNotFound) {
		return
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
	t.m.errors.WithLabelValues(t.name, op, r).Inc()
}

func (t *timedDirectory) Find(ctx context.Context, key directory.Key, value string) (_ []directory.User, err error) {
	defer func(s time.Time) { t.observe("find", s, err) }(time.Now())
	return t.Directory.Find(ctx, key, value)
}

func (t *timedDirectory) Status(ctx context.Context, u directory.User) (_ directory.Status, err error) {
	defer func(s time.Time) { t.observe("status", s, err) }(time.Now())
	return t.Directory.Status(ctx, u)
}

func (t *timedDirectory) ResetPassword(ctx context.Context, u directory.User, pw secret.String, o directory.ResetOptions) (err error) {
	defer func(s time.Time) { t.observe("reset", s, err) }(time.Now())
	return t.Directory.ResetPassword(ctx, u, pw, o)
}

func (t *timedDirectory) Unlock(ctx context.Context, u directory.User) (err error) {
	defer func(s time.Time) { t.observe("unlock", s, err) }(time.Now())
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
