package app

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/store/redis"
)

// registerRedisMetrics exposes the Redis store's counters: round trips (a
// turn costs two), retries across a failover, and commits that did not
// reach the asked number of replicas in time.
func registerRedisMetrics(reg prometheus.Registerer, s *redis.Store) error {
	cs := []prometheus.Collector{
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "resetbot_redis_round_trips_total",
			Help: "Requests sent to Redis (a command, a script or a pipeline counts once)."},
			func() float64 { return float64(s.Stats().RoundTrips) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "resetbot_redis_retries_total",
			Help: "Idempotent Redis calls repeated after a transient failure (a failover)."},
			func() float64 { return float64(s.Stats().Retries) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "resetbot_redis_replica_lag_total",
			Help: "Turn commits not acknowledged by the asked number of replicas in time."},
			func() float64 { return float64(s.Stats().ReplicaLag) }),
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// registerAuditMetrics exposes the audit queue: its depth, and the events
// written synchronously because it was full (the overload signal) or refused
// by the sink.
func registerAuditMetrics(reg prometheus.Registerer, q *audit.Queue) error {
	cs := []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "resetbot_audit_queued",
			Help: "Audit events waiting to be written."}, func() float64 { return float64(q.Stats().Queued) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "resetbot_audit_overloaded_total",
			Help: "Audit events written synchronously because the queue was full."},
			func() float64 { return float64(q.Stats().Overloaded) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "resetbot_audit_failed_total",
			Help: "Audit events the sink refused (logged at ERROR)."},
			func() float64 { return float64(q.Stats().Failed) }),
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// turnMetrics counts engine turns by channel and outcome, with their
// duration. Labels are low-cardinality: never a user, a session or a flow
// input.
type turnMetrics struct {
	turns    *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newTurnMetrics(reg prometheus.Registerer) (*turnMetrics, error) {
	m := &turnMetrics{
		turns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "resetbot_turns_total",
			Help: "Conversation turns handled, by channel and outcome (ok, ended, error, busy, duplicate).",
		}, []string{"channel", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "resetbot_turn_duration_seconds",
			Help:    "Time to handle a conversation turn, including anti-enumeration padding.",
			Buckets: []float64{.001, .005, .01, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"channel"}),
	}
	for _, c := range []prometheus.Collector{m.turns, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// observe is the engine's OnTurn hook.
func (m *turnMetrics) observe(channel string, r engine.Reply, took time.Duration) {
	outcome := "ok"
	switch {
	case r.Duplicate:
		outcome = "duplicate"
	case len(r.Outputs) > 0 && r.Outputs[0].MessageID == engine.MsgError:
		outcome = "error"
	case len(r.Outputs) > 0 && r.Outputs[0].MessageID == engine.MsgBusy:
		outcome = "busy"
	case r.Ended:
		outcome = "ended"
	}
	m.turns.WithLabelValues(channel, outcome).Inc()
	m.duration.WithLabelValues(channel).Observe(took.Seconds())
}
