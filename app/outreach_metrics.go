package app

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/outreach/lockout"
)

// outreachMetrics counts outreach outcomes (from the audit events the
// watcher writes) and each poll's directory load. A nil *outreachMetrics
// (metrics off) records nothing.
type outreachMetrics struct {
	outcomes *prometheus.CounterVec
	entries  *prometheus.CounterVec
	polls    *prometheus.HistogramVec
	lease    *prometheus.GaugeVec
}

// outreachReasons is the closed label set of outreach outcomes.
var outreachReasons = set(lockout.ReasonSent, lockout.ReasonAdminLock, lockout.ReasonSprayPaused,
	lockout.ReasonNotLocked, lockout.ReasonHeld, lockout.ReasonProtected, lockout.ReasonUnmapped,
	lockout.ReasonQuietHours, lockout.ReasonRateLimited, lockout.ReasonError)

func newOutreachMetrics(reg prometheus.Registerer) (*outreachMetrics, error) {
	if reg == nil {
		return nil, nil
	}
	m := &outreachMetrics{
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "resetbot_outreach_total",
			Help: "Outreach decisions by kind and reason (sent, unmapped, rate_limited, spray_paused, ...)."},
			[]string{"kind", "reason"}),
		entries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "resetbot_outreach_directory_entries_total",
			Help: "Entries the lockout watcher read from each directory (its load)."}, []string{"directory"}),
		polls: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "resetbot_outreach_poll_seconds",
			Help: "Time of one lockout poll of a directory.", Buckets: prometheus.DefBuckets}, []string{"directory"}),
		lease: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "resetbot_outreach_lease_held",
			Help: "1 while this replica holds a watcher's lease."}, []string{"job"}),
	}
	for _, c := range []prometheus.Collector{m.outcomes, m.entries, m.polls, m.lease} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Write implements audit.Sink: it counts outreach.lockout decisions.
func (m *outreachMetrics) Write(_ context.Context, e audit.Event) error {
	if e.Name != lockout.EventName {
		return nil
	}
	r := e.Reason
	if !outreachReasons[r] {
		r = "other"
	}
	m.outcomes.WithLabelValues(lockout.Kind, r).Inc()
	return nil
}

func (m *outreachMetrics) observe(s lockout.PollStats) {
	if m == nil {
		return
	}
	m.entries.WithLabelValues(s.Directory).Add(float64(s.Entries))
	m.polls.WithLabelValues(s.Directory).Observe(s.Duration.Seconds())
}

func (m *outreachMetrics) leaseChanged(job string) func(bool) {
	return func(held bool) {
		if m == nil {
			return
		}
		v := 0.0
		if held {
			v = 1
		}
		m.lease.WithLabelValues(job).Set(v)
	}
}
