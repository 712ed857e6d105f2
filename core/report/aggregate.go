package report

import (
	"context"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/resetbot/resetbot/core/audit"
)

// NameRating is the audit event of a satisfaction answer after a completed
// flow; its Reason is RatingUp or RatingDown.
const (
	NameRating = "flow.rating"
	RatingUp   = "up"
	RatingDown = "down"
)

// SecondsField is the flow.end field the engine fills with the seconds since
// the conversation started, so the time to reset is known on whichever
// replica ends the conversation.
const SecondsField = "seconds"

// maxStarts bounds the conversations timed from their flow.start when the
// flow.end has no SecondsField (older audit trails).
const maxStarts = 10000

// Aggregator folds audit events into Days. It is an audit.Sink (for the
// running service, which flushes it to the store) and the reader of audit
// files: one place turns events into the report's figures. Safe for
// concurrent use; it never fails.
type Aggregator struct {
	mu     sync.Mutex
	days   map[string]*Day
	starts map[string]time.Time // session hash -> reset start
}

var _ audit.Sink = (*Aggregator)(nil)

// NewAggregator returns an empty Aggregator.
func NewAggregator() *Aggregator {
	return &Aggregator{days: map[string]*Day{}, starts: map[string]time.Time{}}
}

// Write implements audit.Sink.
func (a *Aggregator) Write(_ context.Context, e audit.Event) error {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.add(e)
	return nil
}

func (a *Aggregator) day(t time.Time) *Day {
	k := DateOf(t)
	d := a.days[k]
	if d == nil {
		d = &Day{Date: k}
		a.days[k] = d
	}
	return d
}

// add counts e. Called with a.mu held.
func (a *Aggregator) add(e audit.Event) {
	switch e.Name {
	case "flow.start":
		inc(&a.day(e.Time).Started, e.Flow)
		if e.Flow == "reset" && e.Session != "" && len(a.starts) < maxStarts {
			a.starts[e.Session] = e.Time
		}
	case "flow.end":
		a.end(e)
	case audit.NameEscalation:
		d := a.day(e.Time)
		inc(&d.Escalations, e.Reason)
		if e.Flow == "reset" || e.Flow == "unlock" {
			d.EscalatedDemand++
		}
	case "enroll.done":
		if e.Outcome == audit.OutcomeSuccess {
			a.day(e.Time).Enrollments++
		}
	case NameRating:
		if e.Reason == RatingUp || e.Reason == RatingDown {
			inc(&a.day(e.Time).Ratings, e.Reason)
		}
	}
}

func (a *Aggregator) end(e audit.Event) {
	d := a.day(e.Time)
	start, timed := a.starts[e.Session]
	delete(a.starts, e.Session)
	switch e.Outcome {
	case "done":
		inc(&d.Completions, e.Flow+"/"+e.Channel)
		if e.Flow != "reset" {
			return
		}
		if s, err := strconv.Atoi(e.Fields[SecondsField]); err == nil && s >= 0 {
			inc(&d.ResetSeconds, quantize(time.Duration(s)*time.Second))
		} else if timed && !e.Time.Before(start) {
			inc(&d.ResetSeconds, quantize(e.Time.Sub(start)))
		}
	case "cancelled", "expired":
		d.Abandoned++
	}
	// Forget reset starts idle for a day, so the map stays small.
	if len(a.starts) >= maxStarts {
		for k, t := range a.starts {
			if e.Time.Sub(t) > 24*time.Hour {
				delete(a.starts, k)
			}
		}
	}
}

// Drain returns the days counted since the last Drain, oldest first, and
// starts again from zero (conversations being timed are kept).
func (a *Aggregator) Drain() []Day {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]Day, 0, len(a.days))
	for _, d := range a.days {
		if !d.Empty() {
			out = append(out, d.clone())
		}
	}
	a.days = map[string]*Day{}
	sort.Slice(out, func(i, j int) bool { return out[i].Date < out[j].Date })
	return out
}

// Restore puts days back after a failed flush so they are tried again.
func (a *Aggregator) Restore(days []Day) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, d := range days {
		cur := a.days[d.Date]
		if cur == nil {
			cur = &Day{Date: d.Date}
			a.days[d.Date] = cur
		}
		cur.Merge(d)
	}
}
