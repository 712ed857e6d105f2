package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/report"
	"github.com/resetbot/resetbot/core/store"
)

// Intervals of the reporting loops.
const (
	// reportFlushEvery is how often a replica merges its daily aggregates
	// into the store (and refreshes the report gauges): at most this much
	// of a replica's counts is lost when it is killed.
	reportFlushEvery = time.Minute
	// monthlyEvery is how often the monthly summary checks whether it is due.
	monthlyEvery = time.Hour
	// adoptionFirst is when the first adoption count runs after start.
	adoptionFirst = 2 * time.Minute
	// adoptionPage is the directory listing's page size.
	adoptionPage = 500
	// gaugePeriod is the window of the report gauges on /metrics.
	gaugePeriod = 30 * 24 * time.Hour
)

// reporting is the service side of the ROI report: the audit events folded
// into daily aggregates kept in the store, the adoption count, the gauges on
// /metrics and the monthly summary.
type reporting struct {
	agg    *report.Aggregator
	st     store.Store
	cfg    config.ReportConfig
	log    *slog.Logger
	clock  func() time.Time
	gauges *reportGauges
	// dir lists the users in scope; enrolled says whether one has a factor
	// enrolled (set once the verifiers are built).
	dir      directory.Directory
	enrolled []func(ctx context.Context, s identity.Subject) (bool, error)
}

// FlushReport merges this replica's daily aggregates into the store and
// refreshes the report gauges. The service does it every minute and on
// shutdown; tests call it to read the figures at once.
func (a *App) FlushReport(ctx context.Context) error {
	r := a.reporting
	days := r.agg.Drain()
	if left, err := report.SaveDays(ctx, r.st, days); err != nil {
		r.agg.Restore(left) // tried again at the next flush
		return err
	}
	if r.gauges == nil {
		return nil
	}
	rep, err := report.FromStore(ctx, r.st, report.Options{Since: r.clock().Add(-gaugePeriod),
		CostPerTicket: r.cfg.CostPerTicket, Currency: r.cfg.Currency}, r.clock())
	if err != nil {
		return err
	}
	r.gauges.set(rep)
	return nil
}

// CountAdoption lists the users in scope and counts those with a factor
// enrolled, stores the count (the report reads it) and sets the gauges.
// Work is bounded: report.adoption_max_users users, one store read per
// user and enrollable factor, sequentially.
func (a *App) CountAdoption(ctx context.Context) (report.Adoption, error) {
	r := a.reporting
	l, ok := r.dir.(directory.Lister)
	if !ok {
		return report.Adoption{}, directory.ErrNotListable
	}
	ad := report.Adoption{At: r.clock().UTC()}
	errFull := errors.New("bound reached")
	err := l.List(ctx, adoptionPage, func(us []directory.User) error {
		for _, u := range us {
			if ad.InScope >= r.cfg.AdoptionMaxUsers {
				ad.Truncated = true
				return errFull
			}
			ad.InScope++
			s := identity.Subject{Key: u.Directory + ":" + u.ID, Login: u.Login, Mobile: u.Mobile, RecoveryEmail: u.RecoveryEmail}
			for _, has := range r.enrolled {
				ok, err := has(ctx, s)
				if err != nil {
					return fmt.Errorf("adoption: enrollment: %w", err)
				}
				if ok {
					ad.Enrolled++
					break
				}
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, errFull) {
		return report.Adoption{}, fmt.Errorf("adoption: %w", err)
	}
	if ad.InScope > 0 {
		ad.Ratio = float64(ad.Enrolled) / float64(ad.InScope)
	}
	if err := report.SaveAdoption(ctx, r.st, ad); err != nil {
		return report.Adoption{}, err
	}
	if r.gauges != nil {
		r.gauges.setAdoption(ad)
	}
	return ad, nil
}

// countAdoptionOnce counts adoption unless another replica did within the
// interval (a store key claimed with compare-and-swap).
func (a *App) countAdoptionOnce(ctx context.Context) {
	r := a.reporting
	ttl := r.cfg.AdoptionInterval * 9 / 10
	if _, err := r.st.CompareAndSwap(ctx, "report:adoption:claim", 0, []byte("1"), ttl); err != nil {
		if !errors.Is(err, store.ErrConflict) {
			r.log.Warn("adoption count skipped", "err", err)
		}
		return
	}
	ad, err := a.CountAdoption(ctx)
	if err != nil {
		r.log.Warn("adoption count failed", "err", err)
		return
	}
	r.log.Info("adoption counted", "users_in_scope", ad.InScope, "users_enrolled", ad.Enrolled, "truncated", ad.Truncated)
}

// enrolledChecks are the enrollment records that make a user "enrolled":
// a bound authenticator (the methods that enroll) and security questions.
func enrolledChecks(ms *identity.Registry, qv interface {
	Enrolled(ctx context.Context, userKey string) ([]string, error)
}) []func(context.Context, identity.Subject) (bool, error) {
	var out []func(context.Context, identity.Subject) (bool, error)
	for _, m := range ms.Methods() {
		if _, ok := m.(identity.Enroller); ok {
			out = append(out, m.Has)
		}
	}
	if qv != nil {
		out = append(out, func(ctx context.Context, s identity.Subject) (bool, error) {
			ids, err := qv.Enrolled(ctx, s.Key)
			return len(ids) > 0, err
		})
	}
	return out
}

// startReporting runs the reporting loops until Close; Close then stops
// them and flushes what is left.
func (a *App) startReporting(cfg *config.Config, opt Options) {
	r := a.reporting
	r.dir = a.Directory
	a.closers = append(a.closers, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := a.FlushReport(ctx); err != nil {
			opt.Log.Warn("report aggregates not flushed on shutdown", "err", err)
		}
		return nil
	})
	a.every(reportFlushEvery, reportFlushEvery, func(ctx context.Context) {
		if err := a.FlushReport(ctx); err != nil {
			opt.Log.Warn("report aggregates not flushed", "err", err)
		}
	})
	// The first count comes soon after start, so the gauges and the report
	// have a figure the same day; then one per interval.
	a.every(min(cfg.Report.AdoptionInterval, adoptionFirst), cfg.Report.AdoptionInterval, a.countAdoptionOnce)
	if m := cfg.Report.Monthly; m.Channel != "" {
		mo := &report.Monthly{KV: a.Store, Poster: a.Posters.To(m.Destination()), Day: m.Day, Hour: m.Hour,
			Options: report.Options{CostPerTicket: cfg.Report.CostPerTicket, Currency: cfg.Report.Currency}}
		a.every(monthlyEvery, monthlyEvery, func(ctx context.Context) {
			if posted, err := mo.Tick(ctx, opt.Clock()); err != nil {
				opt.Log.Warn("monthly report not posted", "err", err)
			} else if posted {
				opt.Log.Info("monthly report posted", "channel", m.Channel)
			}
		})
	}
}

// every runs fn after first, then every d, until Close (which waits for a
// run in progress).
func (a *App) every(first, d time.Duration, fn func(context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTimer(first)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				fn(ctx)
				t.Reset(d)
			}
		}
	}()
	a.closers = append(a.closers, func() error { cancel(); <-done; return nil })
}

// reportGauges expose the report's figures on /metrics.
type reportGauges struct {
	inScope, enrolled, adoption          prometheus.Gauge
	deflection, satisfaction, saving     prometheus.Gauge
	completedTickets, escalations, rated prometheus.Gauge
	timeToReset                          *prometheus.GaugeVec
}

func newReportGauges(reg prometheus.Registerer) (*reportGauges, error) {
	g := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Name: "resetbot_" + name, Help: help})
	}
	const period = " over the last 30 days (the store's daily aggregates, refreshed every minute)."
	r := &reportGauges{
		inScope:          g("users_in_scope", "Accounts in scope in the directories, at the last adoption count."),
		enrolled:         g("users_enrolled", "Accounts in scope with a factor enrolled (authenticator, questions), at the last adoption count."),
		adoption:         g("adoption_ratio", "Users enrolled / users in scope, at the last adoption count."),
		deflection:       g("report_deflection_ratio", "Share of the reset and unlock demand that needed no help desk"+period),
		satisfaction:     g("report_satisfaction_ratio", "Share of ratings that said easy"+period),
		saving:           g("report_estimated_saving", "Resets and unlocks completed × report.cost_per_ticket"+period),
		completedTickets: g("report_completed", "Resets and unlocks completed"+period),
		escalations:      g("report_escalations", "Cases handed to the help desk"+period),
		rated:            g("report_ratings", "Ratings given"+period),
		timeToReset: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "resetbot_report_time_to_reset_seconds",
			Help: "Median (quantile 0.5) and p90 (0.9) time from start to a completed reset" + period}, []string{"quantile"}),
	}
	for _, c := range []prometheus.Collector{r.inScope, r.enrolled, r.adoption, r.deflection, r.satisfaction, r.saving,
		r.completedTickets, r.escalations, r.rated, r.timeToReset} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (g *reportGauges) set(rep report.Report) {
	g.deflection.Set(rep.Deflection)
	g.satisfaction.Set(rep.Satisfaction.Share)
	g.saving.Set(rep.Saving)
	g.completedTickets.Set(float64(rep.Completed))
	g.escalations.Set(float64(rep.Escalations))
	g.rated.Set(float64(rep.Satisfaction.Up + rep.Satisfaction.Down))
	g.timeToReset.WithLabelValues("0.5").Set(rep.TimeToReset.MedianSeconds)
	g.timeToReset.WithLabelValues("0.9").Set(rep.TimeToReset.P90Seconds)
	if rep.Adoption != nil {
		g.setAdoption(*rep.Adoption)
	}
}

func (g *reportGauges) setAdoption(a report.Adoption) {
	g.inScope.Set(float64(a.InScope))
	g.enrolled.Set(float64(a.Enrolled))
	g.adoption.Set(a.Ratio)
}
