// Package report computes what an IT manager keeps resetbot for, from the
// audit trail (the JSON lines of core/audit): completions per channel, time
// to reset, escalations, the share of resets that needed no help desk
// (deflection) and an estimated saving at a configurable cost per ticket.
//
// Adoption in the strict sense (users with a factor enrolled / users in
// scope) needs the number of users in scope from the directory, which the
// directory contract cannot enumerate; the report gives the enrollments and
// the distinct users served in the period instead, and says so.
package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
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

// Report is the result. Every figure counts events inside the period.
type Report struct {
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
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
	// Saving is Completed × CostPerTicket.
	CostPerTicket float64 `json:"cost_per_ticket"`
	Currency      string  `json:"currency,omitempty"`
	Saving        float64 `json:"estimated_saving"`
	// UsersServed is the number of distinct accounts with a completed reset
	// or unlock; Enrollments the distinct accounts that enrolled a factor.
	UsersServed int `json:"users_served"`
	Enrollments int `json:"enrollments"`
	// Adoption is not computable from the audit trail (see the package
	// documentation); AdoptionNote says so in the output.
	AdoptionNote string `json:"adoption_note"`
	// Skipped counts lines that were not audit events.
	Skipped int `json:"skipped_lines"`
}

// AdoptionNote explains the missing adoption rate.
const AdoptionNote = "users with a factor enrolled / users in scope needs a directory count of users in scope; not computed"

// Build reads audit JSON lines from r and computes the report.
func Build(r io.Reader, o Options) (Report, error) {
	rep := Report{Since: o.Since.UTC(), Until: o.Until.UTC(), Started: map[string]int{}, EscalationsByReason: map[string]int{},
		CostPerTicket: o.CostPerTicket, Currency: o.Currency, AdoptionNote: AdoptionNote}
	starts := map[string]time.Time{} // session -> reset start
	completions := map[[2]string]int{}
	served, enrolled := map[string]bool{}, map[string]bool{}
	var durations []float64
	escalatedDemand := 0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		var e audit.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Name == "" {
			rep.Skipped++
			continue
		}
		if e.Time.Before(o.Since) || (!o.Until.IsZero() && !e.Time.Before(o.Until)) {
			continue
		}
		switch e.Name {
		case "flow.start":
			rep.Started[e.Flow]++
			if e.Flow == "reset" && e.Session != "" {
				starts[e.Session] = e.Time
			}
		case "flow.end":
			switch e.Outcome {
			case "done":
				completions[[2]string{e.Flow, e.Channel}]++
				if e.Flow == "reset" || e.Flow == "unlock" {
					rep.Completed++
					served[e.Actor] = true
				}
				if t, ok := starts[e.Session]; ok && e.Flow == "reset" {
					durations = append(durations, e.Time.Sub(t).Seconds())
				}
			case "cancelled", "expired":
				rep.Abandoned++
			}
			delete(starts, e.Session)
		case audit.NameEscalation:
			rep.Escalations++
			rep.EscalationsByReason[e.Reason]++
			if e.Flow == "reset" || e.Flow == "unlock" {
				escalatedDemand++
			}
		case "enroll.done":
			if e.Outcome == audit.OutcomeSuccess {
				enrolled[e.Actor] = true
			}
		}
	}
	if err := sc.Err(); err != nil {
		return Report{}, fmt.Errorf("report: read audit: %w", err)
	}
	for k, n := range completions {
		rep.Completions = append(rep.Completions, Count{Flow: k[0], Channel: k[1], Count: n})
	}
	sort.Slice(rep.Completions, func(i, j int) bool {
		a, b := rep.Completions[i], rep.Completions[j]
		return a.Flow < b.Flow || (a.Flow == b.Flow && a.Channel < b.Channel)
	})
	rep.TimeToReset = summarise(durations)
	if d := rep.Completed + escalatedDemand; d > 0 {
		rep.Deflection = float64(rep.Completed) / float64(d)
	}
	rep.Saving = math.Round(float64(rep.Completed)*o.CostPerTicket*100) / 100
	rep.UsersServed, rep.Enrollments = len(served), len(enrolled)
	return rep, nil
}

// summarise returns the count, median and 90th percentile (nearest rank).
func summarise(ds []float64) Durations {
	if len(ds) == 0 {
		return Durations{}
	}
	sort.Float64s(ds)
	rank := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(ds)))) - 1
		return ds[max(i, 0)]
	}
	return Durations{Count: len(ds), MedianSeconds: rank(0.5), P90Seconds: rank(0.9)}
}
