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

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/report"
)

// runReport prints the ROI report over the audit trail:
//
//	resetbot report -config FILE [-audit FILE] [-since 30d] [-json] [-cost-per-ticket 25 -currency USD]
func runReport(_ context.Context, args []string) int {
	return reportMain(args, os.Stdout, os.Stderr, time.Now())
}

func reportMain(args []string, out, errOut io.Writer, now time.Time) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(errOut)
	path := fs.String("config", "", "configuration file (YAML); its audit.file is read unless -audit is given")
	auditFile := fs.String("audit", "", "audit trail to read (JSON lines); overrides audit.file")
	since := fs.String("since", "30d", "period: a number of days (30d) or a Go duration (12h)")
	asJSON := fs.Bool("json", false, "print JSON")
	cost := fs.Float64("cost-per-ticket", 0, "cost of one help-desk reset or unlock ticket, for the estimated saving")
	currency := fs.String("currency", "", "currency label for the saving (USD, EUR, ...)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	d, err := parsePeriod(*since)
	if err != nil {
		fmt.Fprintln(errOut, "report: -since:", err)
		return 2
	}
	file := *auditFile
	if file == "" && *path != "" {
		cfg, probs := config.Load(*path, os.Environ())
		if probs.HasErrors() {
			fmt.Fprintln(errOut, probs.Error())
			return 1
		}
		file = cfg.Audit.File
	}
	if file == "" || file == "-" {
		fmt.Fprintln(errOut, "report: no audit file (audit.file is standard output or unset); pass -audit FILE")
		return 2
	}
	fh, err := os.Open(file)
	if err != nil {
		fmt.Fprintln(errOut, "report:", err)
		return 1
	}
	defer fh.Close()
	rep, err := report.Build(fh, report.Options{Since: now.Add(-d), CostPerTicket: *cost, Currency: *currency})
	if err != nil {
		fmt.Fprintln(errOut, err)
		return 1
	}
	if *asJSON {
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
