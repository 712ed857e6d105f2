package app

import (
	"fmt"

	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/core/outreach/expiry"
)

// expiryLease names the lease of the reminder sweep: one replica sweeps
// every directory.
const expiryLease = "outreach:expiry"

// outreachExpiry is what the expiry reminders need beyond the shared
// outreach parts.
type outreachExpiry struct {
	email   notify.Sender
	render  expiry.Renderer
	answers *expiry.Answers
}

// Expiry builds the reminder scheduler from outreach.expiry with the
// messengers registered so far; nil when reminders are off. Start runs it
// under the lease; tests and tools may sweep it directly.
func (o *Outreach) Expiry() (*expiry.Scheduler, error) { return o.expiryScheduler() }

// expiryScheduler builds the reminder scheduler; Start calls it after the
// chat adapters have registered their messengers.
func (o *Outreach) expiryScheduler() (*expiry.Scheduler, error) {
	c := o.cfg.Expiry
	if !c.Enabled {
		return nil, nil
	}
	q, err := o.quiet()
	if err != nil {
		return nil, err
	}
	opts := expiry.Options{Dir: o.router, Thresholds: c.Thresholds(), Messengers: o.messengerList(),
		Renderer: o.expiry.render, Store: o.st, Keys: o.keys, Quiet: q, MaxPerRun: c.MaxPerRun,
		Interval: c.Interval, Audit: o.audit, Log: o.log, Clock: o.clock, Observe: o.sweepLogged}
	if c.Email {
		if o.expiry.email == nil {
			return nil, fmt.Errorf("outreach.expiry.email: no e-mail sender is configured")
		}
		opts.Email, opts.ChangeURL = o.expiry.email, c.ChangeURL
	}
	s, err := expiry.New(opts)
	if err != nil {
		return nil, fmt.Errorf("outreach.expiry: %w", err)
	}
	return s, nil
}

// sweepLogged counts every sweep's outcomes (resetbot_outreach_total
// with kind expiry, capped included: the metric of a reached cap) and logs
// the sweep's directory load; the scheduler itself warns and audits a cap.
func (o *Outreach) sweepLogged(st expiry.Stats) {
	if m := o.metrics; m != nil {
		for r, n := range st.Reasons {
			m.outcomes.WithLabelValues(expiry.Kind, r).Add(float64(n))
		}
		m.entries.WithLabelValues("expiry").Add(float64(st.Listed))
	}
	if o.log == nil {
		return
	}
	o.log.Info("expiry sweep", "listed", st.Listed, "directory_ms", st.Duration.Milliseconds(),
		"sent", st.Reasons[expiry.ReasonSent], "duplicate", st.Reasons[expiry.ReasonDuplicate],
		"unmapped", st.Reasons[expiry.ReasonUnmapped], "quiet", st.Reasons[expiry.ReasonQuietHours],
		"errors", st.Reasons[expiry.ReasonError], "capped", st.Reasons[expiry.ReasonCapped], "cap_reached", st.CapReached)
}
