package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/resetbot/resetbot/app"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/report"
	"github.com/resetbot/resetbot/plugins"
)

// runReport prints the ROI report over the audit trail or the store:
//
//	resetbot report -config FILE [-from audit|store] [-audit FILE] [-since 30d] [-json] [-cost-per-ticket 25 -currency USD]
func runReport(ctx context.Context, args []string) int {
	return reportMain(ctx, args, os.Stdout, os.Stderr, time.Now())
}

// reportFlags are the command's options.
type reportFlags struct {
	config, from, audit, since, currency string
	json                                 bool
	cost                                 float64
}

func reportMain(ctx context.Context, args []string, out, errOut io.Writer, now time.Time) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(errOut)
	var f reportFlags
	fs.StringVar(&f.config, "config", "", "configuration file (YAML): its store, audit.file and report prices")
	fs.StringVar(&f.from, "from", "", "audit (the audit file) or store (the daily aggregates the service keeps); default: store with -config and no -audit")
	fs.StringVar(&f.audit, "audit", "", "audit trail to read (JSON lines); overrides audit.file")
	fs.StringVar(&f.since, "since", "30d", "period: a number of days (30d) or a Go duration (12h)")
	fs.BoolVar(&f.json, "json", false, "print JSON")
	fs.Float64Var(&f.cost, "cost-per-ticket", -1, "cost of one help-desk reset or unlock ticket (default: report.cost_per_ticket)")
	fs.StringVar(&f.currency, "currency", "", "currency label for the saving (default: report.currency)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	d, err := parsePeriod(f.since)
	if err != nil {
		fmt.Fprintln(errOut, "report: -since:", err)
		return 2
	}
	cfg := config.Default(plugins.All())
	if f.config != "" {
		var probs config.Problems
		if cfg, probs = config.Load(f.config, os.Environ(), plugins.All()); probs.HasErrors() {
			fmt.Fprintln(errOut, probs.Error())
			return 1
		}
	}
	o := report.Options{Since: now.Add(-d), CostPerTicket: max(f.cost, 0), Currency: f.currency}
	if f.cost < 0 {
		o.CostPerTicket = cfg.Report.CostPerTicket
	}
	if o.Currency == "" {
		o.Currency = cfg.Report.Currency
	}
	from := f.from
	if from == "" {
		from = "audit"
		if f.config != "" && f.audit == "" {
			from = "store"
		}
	}
	var rep report.Report
	switch from {
	case "store":
		if f.config == "" || cfg.Store.Type == "memory" {
			fmt.Fprintln(errOut, "report: -from store needs -config with a bolt or redis store (a memory store lives in the serving process)")
			return 2
		}
		rep, err = reportFromStore(ctx, cfg, o, now)
	case "audit":
		rep, err = reportFromAudit(cfg, f.audit, f.config != "", o)
	default:
		fmt.Fprintln(errOut, "report: -from must be audit or store")
		return 2
	}
	if err != nil {
		fmt.Fprintln(errOut, "report:", err)
		return 1
	}
	if f.json {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = rep.WriteText(out)
	}
	if err != nil {
		fmt.Fprintln(errOut, "report:", err)
		return 1
	}
	return 0
}

// reportFromStore reads the daily aggregates and the adoption count the
// service keeps in the configured store. A bbolt file is locked by a running
// service: use Redis with several processes, or stop the service.
func reportFromStore(ctx context.Context, cfg *config.Config, o report.Options, now time.Time) (report.Report, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	st, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return report.Report{}, err
	}
	if c, ok := st.(io.Closer); ok {
		defer c.Close()
	}
	return report.FromStore(ctx, st, o, now)
}

// reportFromAudit reads an audit file: file, else audit.file when a
// configuration was given.
func reportFromAudit(cfg *config.Config, file string, configured bool, o report.Options) (report.Report, error) {
	if file == "" && configured {
		file = cfg.Audit.File
	}
	if file == "" || file == "-" {
		return report.Report{}, errors.New("no audit file (audit.file is standard output or unset); pass -audit FILE or -from store")
	}
	fh, err := os.Open(file)
	if err != nil {
		return report.Report{}, err
	}
	defer fh.Close()
	return report.Build(fh, o)
}

// parsePeriod accepts "30d" as well as Go durations.
func parsePeriod(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 {
			return 0, errors.New("want a positive number of days, such as 30d")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, errors.New("want 30d or a positive duration such as 12h")
	}
	return d, nil
}
