package app

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/resetbot/resetbot/core/notify"
)

// watchQueue exports a notifier queue's depth and the sends it shed because
// it was full, labelled by delivery channel. Nothing happens when metrics
// are off.
func watchQueue(reg prometheus.Registerer, channel string, q *notify.Queue) error {
	if reg == nil {
		return nil
	}
	labels := prometheus.Labels{"channel": channel}
	for _, c := range []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "resetbot_notify_queue_depth",
			Help: "Messages waiting in a notifier's bounded queue.", ConstLabels: labels},
			func() float64 { return float64(q.Stats().Pending) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "resetbot_notify_queue_shed_total",
			Help: "Sends refused because a notifier's queue was full.", ConstLabels: labels},
			func() float64 { return float64(q.Stats().Dropped) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "resetbot_notify_delivery_failures_total",
			Help: "Messages a notifier's provider refused after they left the queue.", ConstLabels: labels},
			func() float64 { return float64(q.Stats().Failed) }),
	} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
