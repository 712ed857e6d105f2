// Package report computes what an IT manager keeps resetbot for:
// adoption (users with a factor enrolled / users in scope), completions per
// channel, time to reset, escalations, the share of resets that needed no
// help desk (deflection), satisfaction and an estimated saving at a
// configurable cost per ticket.
//
// The figures come from audit events folded into compact daily aggregates
// (Day, by the Aggregator): either read from an audit file (Build) or kept
// in the store by the running service (Flusher, LoadDays) and read back
// (Summarize). Adoption comes from the directory and the enrollment records
// (Adoption, refreshed by the service and kept in the store).
package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/resetbot/resetbot/core/audit"
)

// Options bound and price the report.
type Options struct {
	// Since and Until bound the period; a zero Until means no upper bound.
	Since, Until time.Time
	// CostPerTicket is what one help-desk reset or unlock ticket costs.
	CostPerTicket float64
	// Currency labels the saving (e.g. USD).
	Currency string
}

// Count is a number of completions for one flow on one channel.
type Count struct {
	Flow    string `json:"flow"`
	Channel string `json:"channel"`
	Count   int    `json:"count"`
}

// Durations summarises the time from the start of a reset conversation to the
// new password.
type Durations struct {
	Count         int     `json:"count"`
	MedianSeconds float64 `json:"median_seconds"`
	P90Seconds    float64 `json:"p90_seconds"`
}

// Satisfaction counts the ratings given after completed flows.
type Satisfaction struct {
	Up   int `json:"up"`
	Down int `json:"down"`
	// Share is Up / (Up + Down); 0 without ratings.
	Share float64 `json:"share"`
}

// Report is the result. Every figure counts events inside the period.
type Report struct {
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// Source is "audit" (an audit file) or "store" (daily aggregates).
	Source string `json:"source"`
	// Adoption is the latest count of users in scope and enrolled, when
	// known (the service counts it from the directory and keeps it in the
	// store).
	Adoption *Adoption `json:"adoption,omitempty"`
	// Started counts conversations started, by flow.
	Started map[string]int `json:"started"`
	// Completions are the flows that ended done, by flow and channel.
	Completions []Count `json:"completions"`
	// Completed is the number of resets and unlocks done (help-desk tickets
	// the bot took).
	Completed int `json:"completed"`
	// Abandoned counts conversations cancelled or expired.
	Abandoned int `json:"abandoned"`
	// TimeToReset is the time from start to a completed reset.
	TimeToReset Durations `json:"time_to_reset"`
	// Escalations count the cases handed to the help desk, by reason.
	Escalations         int            `json:"escalations"`
	EscalationsByReason map[string]int `json:"escalations_by_reason"`
	// Deflection is Completed / (Completed + reset and unlock escalations):
	// the share of the reset and unlock demand that needed no help desk.
	Deflection float64 `json:"deflection"`
	// Satisfaction counts the ratings after completed flows.
	Satisfaction Satisfaction `json:"satisfaction"`
	// Saving is Completed × CostPerTicket.
	CostPerTicket float64 `json:"cost_per_ticket"`
	Currency      string  `json:"currency,omitempty"`
	Saving        float64 `json:"estimated_saving"`
	// Enrollments counts factors enrolled in the period.
	Enrollments int `json:"enrollments"`
	// UsersServed is the number of distinct accounts with a completed reset
	// or unlock: only an audit file names accounts (the store's aggregates
	// do not), so it is -1 for the store.
	UsersServed int `json:"users_served"`
	// Skipped counts lines that were not audit events.
	Skipped int `json:"skipped_lines,omitempty"`
}

// Build reads audit JSON lines from r and computes the report.
func Build(r io.Reader, o Options) (Report, error) {
	agg := NewAggregator()
	served := map[string]bool{}
	skipped := 0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		var e audit.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Name == "" || e.Time.IsZero() {
			skipped++
			continue
		}
		if e.Time.Before(o.Since) || (!o.Until.IsZero() && !e.Time.Before(o.Until)) {
			continue
		}
		agg.add(e)
		if e.Name == "flow.end" && e.Outcome == "done" && (e.Flow == "reset" || e.Flow == "unlock") {
			served[e.Actor] = true
		}
	}
	if err := sc.Err(); err != nil {
		return Report{}, fmt.Errorf("report: read audit: %w", err)
	}
	rep := Summarize(agg.Drain(), o)
	rep.Source, rep.UsersServed, rep.Skipped = "audit", len(served), skipped
	return rep, nil
}

// Summarize computes the report from daily aggregates. Days outside the
// period's dates are left out (the store keeps whole days).
func Summarize(days []Day, o Options) Report {
	rep := Report{Since: o.Since.UTC(), Until: o.Until.UTC(), Source: "store", Started: map[string]int{},
		EscalationsByReason: map[string]int{}, CostPerTicket: o.CostPerTicket, Currency: o.Currency, UsersServed: -1}
	var total Day
	for _, d := range days {
		if d.Date < DateOf(o.Since) || (!o.Until.IsZero() && d.Date > DateOf(o.Until.Add(-time.Nanosecond))) {
			continue
		}
		total.Merge(d)
	}
	rep.Started = addInto(rep.Started, total.Started)
	rep.EscalationsByReason = addInto(rep.EscalationsByReason, total.Escalations)
	for k, n := range total.Completions {
		flow, channel, _ := strings.Cut(k, "/")
		rep.Completions = append(rep.Completions, Count{Flow: flow, Channel: channel, Count: n})
		if flow == "reset" || flow == "unlock" {
			rep.Completed += n
		}
	}
	sort.Slice(rep.Completions, func(i, j int) bool {
		a, b := rep.Completions[i], rep.Completions[j]
		return a.Flow < b.Flow || (a.Flow == b.Flow && a.Channel < b.Channel)
	})
	for _, n := range total.Escalations {
		rep.Escalations += n
	}
	rep.Abandoned, rep.Enrollments = total.Abandoned, total.Enrollments
	rep.TimeToReset = summarise(total.ResetSeconds)
	if d := rep.Completed + total.EscalatedDemand; d > 0 {
		rep.Deflection = float64(rep.Completed) / float64(d)
	}
	up, down := total.Ratings[RatingUp], total.Ratings[RatingDown]
	rep.Satisfaction = Satisfaction{Up: up, Down: down}
	if up+down > 0 {
		rep.Satisfaction.Share = float64(up) / float64(up+down)
	}
	rep.Saving = math.Round(float64(rep.Completed)*o.CostPerTicket*100) / 100
	return rep
}

// summarise returns the count, median and 90th percentile (nearest rank) of
// a count per duration in seconds.
func summarise(hist map[int]int) Durations {
	secs := make([]int, 0, len(hist))
	n := 0
	for s, c := range hist {
		secs = append(secs, s)
		n += c
	}
	if n == 0 {
		return Durations{}
	}
	sort.Ints(secs)
	rank := func(p float64) float64 {
		want := max(int(math.Ceil(p*float64(n))), 1)
		seen := 0
		for _, s := range secs {
			if seen += hist[s]; seen >= want {
				return float64(s)
			}
		}
		return float64(secs[len(secs)-1])
	}
	return Durations{Count: n, MedianSeconds: rank(0.5), P90Seconds: rank(0.9)}
}
