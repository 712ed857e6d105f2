package server

import (
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec

	// series caches each route and status's children: WithLabelValues
	// hashes its labels and looks them up under the vector's lock on every
	// request. The key set is bounded (registered routes plus "unmatched",
	// times the status codes handlers answer).
	mu     sync.RWMutex
	series map[seriesKey]series
}

type seriesKey struct {
	route  string
	status int
}

type series struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// observe counts one request of route answered with status after secs.
func (m *metrics) observe(route string, status int, secs float64) {
	k := seriesKey{route, status}
	m.mu.RLock()
	s, ok := m.series[k]
	m.mu.RUnlock()
	if !ok {
		s = series{m.requests.WithLabelValues(route, strconv.Itoa(status)), m.duration.WithLabelValues(route)}
		m.mu.Lock()
		if m.series == nil {
			m.series = map[seriesKey]series{}
		}
		m.series[k] = s
		m.mu.Unlock()
	}
	s.requests.Inc()
	s.duration.Observe(secs)
}

func newMetrics(reg prometheus.Registerer) *metrics {
	f := promauto.With(reg)
	return &metrics{
		requests: f.NewCounterVec(prometheus.CounterOpts{
			Name: "resetbot_http_requests_total",
			Help: "Public HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "resetbot_http_request_duration_seconds",
			Help:    "Public HTTP request duration by route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
	}
}
