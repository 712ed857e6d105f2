package app

import (
	"context"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/resetbot/resetbot/core/audit"
)

// auditMetrics derives the business metrics from audit events, in one place,
// so the flows need no metric calls of their own: every decision they make
// is already an audit event. It is an audit.Sink that never fails.
//
// Labels are closed sets (flow, channel, factor, outcome, reason); a value
// outside its set is counted as "other", so no label can carry a user, a
// session or anything typed.
type auditMetrics struct {
	started, ended, verifications, codesSent, sendFailures *prometheus.CounterVec
	refused, escalations, changes, rejected, findings      *prometheus.CounterVec
	ratings                                                *prometheus.CounterVec
	replyFailures                                          *prometheus.CounterVec
	// completion is the time from a conversation's start to done, by flow
	// and channel (time to reset, time to unlock).
	completion *prometheus.HistogramVec

	// channels are the channel label values (metricChannels and the opened
	// channels), under chMu.
	chMu     sync.RWMutex
	channels map[string]bool

	mu     sync.Mutex
	starts map[string]time.Time // session hash -> start, bounded by maxStarts
}

// maxStarts bounds the conversations timed at once; beyond it a start is
// not timed (the counters still count it).
const maxStarts = 10000

var _ audit.Sink = (*auditMetrics)(nil)

// Closed label sets. metricChannels are the channels every build has; each
// opened channel adapter adds its name (addChannel), so that set stays closed.
var (
	metricFlows         = set("reset", "unlock", "enroll", "verify", "handoff")
	metricChannels      = set("console", "api", "sms")
	metricFactors       = set("totp", "sms", "voice", "email", "questions", "passphrase")
	metricEnds          = set("done", "cancelled", "expired", "escalated", "locked_out", "blocked")
	metricRatings       = set("up", "down")
	metricReplyFailures = set("kept", "lost")
	metricOutcomes      = set(audit.OutcomeSuccess, audit.OutcomeFailure, audit.OutcomeDenied, audit.OutcomeError, "replay")
)

func set(vs ...string) map[string]bool {
	m := make(map[string]bool, len(vs))
	for _, v := range vs {
		m[v] = true
	}
	return m
}

func newAuditMetrics(reg prometheus.Registerer) (*auditMetrics, error) {
	cv := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "resetbot_" + name, Help: help}, labels)
	}
	m := &auditMetrics{
		started: cv("flows_started_total", "Conversations started, by flow and channel.", "flow", "channel"),
		ended: cv("flows_ended_total", "Conversations ended, by flow, channel and outcome "+
			"(done = completed; cancelled and expired = abandoned; escalated, locked_out, blocked).", "flow", "channel", "outcome"),
		verifications: cv("verifications_total", "Factor checks, by factor and outcome (success, failure, denied, replay).", "factor", "outcome"),
		codesSent:     cv("codes_sent_total", "One-time codes and passphrases handed to a notifier, by delivery channel.", "channel"),
		sendFailures:  cv("code_send_failures_total", "Notifier failures, by delivery channel.", "channel"),
		refused:       cv("regulation_refusals_total", "Requests refused by throttling, bans or send budgets, by factor and reason.", "factor", "reason"),
		escalations:   cv("escalations_total", "Cases handed to the help desk, by reason.", "reason"),
		changes:       cv("account_changes_total", "Password resets, unlocks and enrollments, by operation and outcome.", "operation", "outcome"),
		rejected:      cv("requests_rejected_total", "Inbound requests refused before the engine ran (bad signature, token, key), by channel.", "channel"),
		findings:      cv("abuse_signals_total", "Abuse signals: replayed codes, owner warnings, alarms, by kind.", "kind"),
		ratings:       cv("ratings_total", "Satisfaction answers after a completed flow (was it easy? up or down), by flow and channel.", "flow", "channel", "rating"),
		replyFailures: cv("reply_failures_total", "Committed turns whose reply the chat platform did not take, by channel and "+
			"outcome (kept: shown on the platform's redelivery; lost).", "channel", "outcome"),
		completion: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "resetbot_flow_completion_seconds",
			Help:    "Time from the start of a conversation to its completion (time to reset, to unlock), by flow and channel.",
			Buckets: []float64{15, 30, 60, 90, 120, 180, 300, 600, 1200, 1800},
		}, []string{"flow", "channel"}),
		starts:   map[string]time.Time{},
		channels: maps.Clone(metricChannels),
	}
	for _, c := range []prometheus.Collector{m.started, m.ended, m.verifications, m.codesSent, m.sendFailures,
		m.refused, m.escalations, m.changes, m.rejected, m.findings, m.ratings, m.replyFailures, m.completion} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// pick returns v when it is in the closed set, "other" otherwise ("none" for
// an empty value).
// addChannel adds an opened channel's name to the channel label values.
func (m *auditMetrics) addChannel(name string) {
	m.chMu.Lock()
	defer m.chMu.Unlock()
	m.channels[name] = true
}

func pick(v string, allowed map[string]bool) string {
	switch {
	case v == "":
		return "none"
	case allowed[v]:
		return v
	default:
		return "other"
	}
}

// reason keeps a machine reason short and in [a-z0-9_]; the flows write
// constants, this only guards against a future free-text reason.
func reason(v string) string {
	if v == "" {
		return "none"
	}
	if i := strings.IndexByte(v, ':'); i > 0 {
		v = v[:i] // "held:disabled" -> "held"
	}
	if len(v) > 32 {
		return "other"
	}
	for _, c := range v {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return "other"
		}
	}
	return v
}

// Write implements audit.Sink.
func (m *auditMetrics) Write(_ context.Context, e audit.Event) error {
	m.chMu.RLock()
	ch := pick(e.Channel, m.channels)
	m.chMu.RUnlock()
	flow, factor := pick(e.Flow, metricFlows), pick(e.Factor, metricFactors)
	switch e.Name {
	case "flow.start":
		m.started.WithLabelValues(flow, ch).Inc()
		m.timeStart(e)
	case "flow.end":
		m.ended.WithLabelValues(flow, ch, pick(e.Outcome, metricEnds)).Inc()
		if took, ok := m.timeEnd(e); ok && e.Outcome == "done" {
			m.completion.WithLabelValues(flow, ch).Observe(took.Seconds())
		}
	case audit.NameVerifyAttempt:
		m.verifications.WithLabelValues(factor, pick(e.Outcome, metricOutcomes)).Inc()
	case "totp.replay":
		m.verifications.WithLabelValues(factor, "replay").Inc()
		m.findings.WithLabelValues("code_replay").Inc()
	case audit.NameCodeSent:
		m.codesSent.WithLabelValues(factor).Inc()
	case audit.NameSendFailed:
		m.sendFailures.WithLabelValues(factor).Inc()
	case audit.NameRegulationDenied:
		m.refused.WithLabelValues(factor, reason(e.Reason)).Inc()
	case audit.NameEscalation:
		m.escalations.WithLabelValues(reason(e.Reason)).Inc()
	case audit.NameResetDone:
		m.changes.WithLabelValues("reset", pick(e.Outcome, metricOutcomes)).Inc()
	case audit.NameUnlockDone:
		m.changes.WithLabelValues("unlock", pick(e.Outcome, metricOutcomes)).Inc()
	case "enroll.done":
		m.changes.WithLabelValues("enroll_"+factor, pick(e.Outcome, metricOutcomes)).Inc()
	case audit.NameAuthnRejected:
		m.rejected.WithLabelValues(ch).Inc()
	case "regulation.notice":
		m.findings.WithLabelValues("owner_warned").Inc()
	case "abuse.alarm":
		m.findings.WithLabelValues("alarm").Inc()
	case "flow.rating":
		m.ratings.WithLabelValues(flow, ch, pick(e.Reason, metricRatings)).Inc()
	}
	return nil
}

func (m *auditMetrics) timeStart(e audit.Event) {
	if e.Session == "" || e.Time.IsZero() {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.starts) >= maxStarts {
		for k, t := range m.starts { // forget conversations idle for a day
			if e.Time.Sub(t) > 24*time.Hour {
				delete(m.starts, k)
			}
		}
		if len(m.starts) >= maxStarts {
			return
		}
	}
	m.starts[e.Session] = e.Time
}

func (m *auditMetrics) timeEnd(e audit.Event) (time.Duration, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.starts[e.Session]
	delete(m.starts, e.Session)
	if !ok || e.Time.Before(t) {
		return 0, false
	}
	return e.Time.Sub(t), true
}
