package report

import (
	"maps"
	"time"
)

// Day is the compact aggregate of one UTC day of audit events: what the
// report needs and nothing else (no account, no session, no identity), so a
// year of it fits in a few hundred small store records.
type Day struct {
	// Date is the UTC day, YYYY-MM-DD.
	Date string `json:"date"`
	// Started counts conversations started, by flow.
	Started map[string]int `json:"started,omitempty"`
	// Completions count flows that ended done, by "flow/channel".
	Completions map[string]int `json:"completions,omitempty"`
	// Abandoned counts conversations cancelled or expired.
	Abandoned int `json:"abandoned,omitempty"`
	// Escalations count cases handed to the help desk, by reason;
	// EscalatedDemand those of a reset or unlock conversation.
	Escalations     map[string]int `json:"escalations,omitempty"`
	EscalatedDemand int            `json:"escalated_demand,omitempty"`
	// ResetSeconds is the time to reset: a count per quantized duration in
	// seconds (see quantize), so median and p90 survive merging days.
	ResetSeconds map[int]int `json:"reset_seconds,omitempty"`
	// Ratings count satisfaction answers, "up" or "down".
	Ratings map[string]int `json:"ratings,omitempty"`
	// Enrollments counts factors enrolled (enroll.done, success).
	Enrollments int `json:"enrollments,omitempty"`
}

// DateOf returns the Day.Date of t.
func DateOf(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// Empty reports whether d counts nothing.
func (d Day) Empty() bool {
	return len(d.Started) == 0 && len(d.Completions) == 0 && d.Abandoned == 0 && len(d.Escalations) == 0 &&
		d.EscalatedDemand == 0 && len(d.ResetSeconds) == 0 && len(d.Ratings) == 0 && d.Enrollments == 0
}

// Merge adds o's counts to d (same day).
func (d *Day) Merge(o Day) {
	if d.Date == "" {
		d.Date = o.Date
	}
	d.Started = addInto(d.Started, o.Started)
	d.Completions = addInto(d.Completions, o.Completions)
	d.Escalations = addInto(d.Escalations, o.Escalations)
	d.ResetSeconds = addInto(d.ResetSeconds, o.ResetSeconds)
	d.Ratings = addInto(d.Ratings, o.Ratings)
	d.Abandoned += o.Abandoned
	d.EscalatedDemand += o.EscalatedDemand
	d.Enrollments += o.Enrollments
}

// clone returns a deep copy of d.
func (d Day) clone() Day {
	c := d
	c.Started, c.Completions, c.Escalations = maps.Clone(d.Started), maps.Clone(d.Completions), maps.Clone(d.Escalations)
	c.ResetSeconds, c.Ratings = maps.Clone(d.ResetSeconds), maps.Clone(d.Ratings)
	return c
}

func addInto[K comparable](dst, src map[K]int) map[K]int {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = make(map[K]int, len(src))
	}
	for k, v := range src {
		dst[k] += v
	}
	return dst
}

func inc[K comparable](m *map[K]int, k K) {
	if *m == nil {
		*m = map[K]int{}
	}
	(*m)[k]++
}

// quantize rounds a duration to whole seconds up to 2 minutes, to 5 s up
// to 10 minutes and to 30 s up to 2 hours (longer counts as 2 hours): at
// most ~350 distinct values a day, and whole minutes stay exact.
func quantize(d time.Duration) int {
	s := int(d.Round(time.Second) / time.Second)
	switch {
	case s < 0:
		return 0
	case s <= 120:
		return s
	case s <= 600:
		return (s + 2) / 5 * 5
	case s <= 7200:
		return (s + 15) / 30 * 30
	}
	return 7200
}
