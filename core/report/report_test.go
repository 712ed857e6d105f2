package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/report"
)

var since = time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC)

// seeded writes a known month of audit records with the real JSON writer.
func seeded(t *testing.T) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	seed(t, audit.NewJSONWriter(&buf))
	buf.WriteString("not json\n")
	return &buf
}

// seed writes the known month of audit events to w.
func seed(t *testing.T, w audit.Sink) {
	t.Helper()
	ctx := context.Background()
	at := since.Add(24 * time.Hour)
	write := func(e audit.Event) {
		if err := w.Write(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	conv := func(i int, flow, channel, user, end string, took time.Duration, extra ...audit.Event) {
		s := audit.HashSession(fmt.Sprint(flow, i))
		start := at.Add(time.Duration(i) * time.Hour)
		write(audit.Event{Time: start, Name: "flow.start", Session: s, Flow: flow, Channel: channel, Actor: channel + ":U" + fmt.Sprint(i)})
		for _, e := range extra {
			e.Time, e.Session, e.Flow, e.Channel, e.Actor = start.Add(took/2), s, flow, channel, user
			write(e)
		}
		write(audit.Event{Time: start.Add(took), Name: "flow.end", Session: s, Flow: flow, Channel: channel, Actor: user, Outcome: end})
	}
	// Before the period: ignored.
	conv(-1000, "reset", "slack", "old", "done", time.Minute)
	for i := range 10 { // resets of 1..10 minutes
		conv(i, "reset", "slack", fmt.Sprint("user", i), "done", time.Duration(i+1)*time.Minute,
			audit.Event{Name: audit.NameResetDone, Outcome: audit.OutcomeSuccess})
	}
	for i := range 3 {
		conv(20+i, "unlock", "voice", fmt.Sprint("user", i), "done", 90*time.Second)
	}
	for i := range 2 {
		conv(30+i, "reset", "teams", fmt.Sprint("stuck", i), "escalated", time.Minute,
			audit.Event{Name: audit.NameEscalation, Reason: "asked_for_agent"})
	}
	conv(40, "reset", "slack", "slack:U40", "cancelled", time.Minute)
	conv(41, "unlock", "slack", "slack:U41", "expired", time.Minute)
	conv(42, "enroll", "slack", "user7", "done", time.Minute, audit.Event{Name: "enroll.done", Outcome: audit.OutcomeSuccess})
	conv(43, "enroll", "slack", "user7", "done", time.Minute, audit.Event{Name: "enroll.done", Outcome: audit.OutcomeSuccess})
	// Ratings after completed flows: 3 up, 1 down, one unknown value ignored.
	for i, r := range []string{report.RatingUp, report.RatingUp, report.RatingDown, report.RatingUp, "meh"} {
		write(audit.Event{Time: at.Add(time.Duration(50+i) * time.Hour), Name: report.NameRating, Flow: "reset", Channel: "slack", Reason: r})
	}
}

func TestSeededReport(t *testing.T) {
	rep, err := report.Build(seeded(t), report.Options{Since: since, CostPerTicket: 22.5, Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	check("completed", float64(rep.Completed), 13)
	check("median", rep.TimeToReset.MedianSeconds, 300)
	check("p90", rep.TimeToReset.P90Seconds, 540)
	check("resets timed", float64(rep.TimeToReset.Count), 10)
	check("escalations", float64(rep.Escalations), 2)
	check("deflection", rep.Deflection, 13.0/15)
	check("saving", rep.Saving, 292.5)
	check("abandoned", float64(rep.Abandoned), 2)
	check("users served", float64(rep.UsersServed), 10)
	check("enrollments", float64(rep.Enrollments), 2)
	check("skipped", float64(rep.Skipped), 1)
	check("rated up", float64(rep.Satisfaction.Up), 3)
	check("rated down", float64(rep.Satisfaction.Down), 1)
	check("satisfaction", rep.Satisfaction.Share, 0.75)
	want := []report.Count{{"enroll", "slack", 2}, {"reset", "slack", 10}, {"unlock", "voice", 3}}
	if fmt.Sprint(rep.Completions) != fmt.Sprint(want) {
		t.Errorf("completions %v, want %v", rep.Completions, want)
	}
	if rep.Started["reset"] != 13 || rep.Started["unlock"] != 4 {
		t.Errorf("started %v", rep.Started)
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"median 5m0s, p90 9m0s", "86.7%", "292.50 USD (13 tickets × 22.50 USD)", "reset on slack", "asked_for_agent 2", "75.0% (3 👍, 1 👎)"} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("text lacks %q:\n%s", s, text.String())
		}
	}
	b, err := json.Marshal(rep)
	if err != nil || !strings.Contains(string(b), `"deflection":0.866`) {
		t.Errorf("json %s %v", b, err)
	}
	t.Logf("\n%s", text.String())
}

func TestEmptyPeriod(t *testing.T) {
	rep, err := report.Build(strings.NewReader(""), report.Options{Since: since})
	if err != nil || rep.Completed != 0 || rep.Deflection != 0 {
		t.Fatalf("%+v %v", rep, err)
	}
	var text bytes.Buffer
	_ = rep.WriteText(&text)
	if !strings.Contains(text.String(), "no completed reset") {
		t.Error(text.String())
	}
}
