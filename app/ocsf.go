package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/audit/ocsf"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/report"
)

// observerSinks returns the audit sinks beside the JSON trail: records,
// the OCSF outputs (audit.ocsf), which go through the audit queue with the
// JSON trail; and live observers, the abuse alarms, the report's daily
// aggregates and, when metrics are on, the business metrics derived from
// audit events in one place, which are written synchronously (in memory,
// and current when a turn returns).
func (a *App) observerSinks(cfg *config.Config, opt Options) (records, live []audit.Sink, err error) {
	records, err = a.ocsfSinks(cfg.Audit.OCSF, opt.Log)
	if err != nil {
		return nil, nil, err
	}
	live = append(live, a.alarms(cfg, opt))
	a.reporting = &reporting{agg: report.NewAggregator(), st: a.Store, cfg: cfg.Report, log: opt.Log, clock: opt.Clock}
	live = append(live, a.reporting.agg)
	if opt.Metrics != nil {
		m, err := newAuditMetrics(opt.Metrics)
		if err != nil {
			return nil, nil, err
		}
		live = append(live, m)
		a.auditMetrics = m
		if a.reporting.gauges, err = newReportGauges(opt.Metrics); err != nil {
			return nil, nil, err
		}
	}
	return records, live, nil
}

// ocsfSinks opens the configured OCSF file or stdout and syslog collector.
func (a *App) ocsfSinks(c config.OCSFConfig, log *slog.Logger) ([]audit.Sink, error) {
	version := "dev"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		version = bi.Main.Version
	}
	var sinks []audit.Sink
	switch c.File {
	case "":
	case "-":
		sinks = append(sinks, ocsf.NewWriter(os.Stdout, version))
	default:
		fh, err := os.OpenFile(c.File, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("audit.ocsf.file: %w", err)
		}
		a.closers = append(a.closers, fh.Close)
		sinks = append(sinks, ocsf.NewWriter(fh, version))
	}
	if s := c.Syslog; s.Address != "" {
		sl := &ocsf.Syslog{Addr: s.Address, OnError: func(err error) { log.Warn("OCSF syslog delivery failed", "err", err) }}
		if s.TLS {
			tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: s.ServerName}
			if s.CAFile != "" {
				pem, err := os.ReadFile(s.CAFile)
				if err != nil {
					return nil, fmt.Errorf("audit.ocsf.syslog.ca_file: %w", err)
				}
				tc.RootCAs = x509.NewCertPool()
				if !tc.RootCAs.AppendCertsFromPEM(pem) {
					return nil, errors.New("audit.ocsf.syslog.ca_file: no certificate in the file")
				}
			}
			sl.TLS = tc
		}
		a.closers = append(a.closers, sl.Close)
		sinks = append(sinks, &bestEffort{Sink: ocsf.NewWriter(sl, version), log: log, what: "OCSF syslog"})
	}
	return sinks, nil
}

// bestEffort is a secondary audit copy whose failures (a full queue while the
// collector is down) must not fail the decision being audited: the JSON
// trail is the record of authority. It logs at most one warning a minute.
type bestEffort struct {
	audit.Sink
	log  *slog.Logger
	what string
	last atomic.Int64 // unix seconds of the last warning
}

func (b *bestEffort) Write(ctx context.Context, e audit.Event) error {
	if err := b.Sink.Write(ctx, e); err != nil {
		now := time.Now().Unix()
		if last := b.last.Load(); now-last >= 60 && b.last.CompareAndSwap(last, now) {
			b.log.Warn("secondary audit copy failing; events dropped", "sink", b.what, "err", err)
		}
	}
	return nil
}
