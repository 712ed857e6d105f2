package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/report"
	"github.com/resetbot/resetbot/core/store/bolt"
)

func TestReportCommand(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	file := filepath.Join(t.TempDir(), "audit.jsonl")
	fh, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	w := audit.NewJSONWriter(fh)
	for i, at := range []time.Time{now.Add(-40 * 24 * time.Hour), now.Add(-2 * time.Hour)} {
		s := audit.HashSession(string(rune('a' + i)))
		_ = w.Write(context.Background(), audit.Event{Time: at, Name: "flow.start", Session: s, Flow: "reset", Channel: "slack"})
		_ = w.Write(context.Background(), audit.Event{Time: at.Add(3 * time.Minute), Name: "flow.end", Session: s, Flow: "reset",
			Channel: "slack", Actor: "uid=x", Outcome: "done"})
	}
	fh.Close()
	var out, errOut bytes.Buffer
	if code := reportMain(context.Background(), []string{"-audit", file, "-since", "30d", "-json", "-cost-per-ticket", "30"}, &out, &errOut, now); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var rep struct {
		Completed int     `json:"completed"`
		Saving    float64 `json:"estimated_saving"`
		TTR       struct {
			Median float64 `json:"median_seconds"`
		} `json:"time_to_reset"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Completed != 1 || rep.Saving != 30 || rep.TTR.Median != 180 {
		t.Errorf("report %s", out.String())
	}
	out.Reset()
	if code := reportMain(context.Background(), []string{"-audit", file, "-since", "60d"}, &out, &errOut, now); code != 0 || !strings.Contains(out.String(), "Resets and unlocks completed") {
		t.Errorf("text: %d %s", code, out.String())
	}
	for _, bad := range [][]string{{"-since", "x"}, {"-since", "-3d", "-audit", file}, {}} {
		if code := reportMain(context.Background(), bad, &out, &errOut, now); code == 0 {
			t.Errorf("%v accepted", bad)
		}
	}
}

// TestReportCommandFromStore: with -config, the report reads the daily
// aggregates and the adoption count from the configured store (bbolt
// here), priced by the report section.
func TestReportCommandFromStore(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	db := filepath.Join(dir, "resetbot.db")
	st, err := bolt.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	days := []report.Day{
		{Date: "2026-10-01", Completions: map[string]int{"reset/slack": 50}}, // outside 30d
		{Date: "2026-11-20", Completions: map[string]int{"reset/slack": 3, "unlock/voice": 1}, ResetSeconds: map[int]int{60: 1, 120: 1, 300: 1},
			Escalations: map[string]int{"asked_for_agent": 1}, EscalatedDemand: 1, Ratings: map[string]int{"up": 2, "down": 1}},
		{Date: "2026-12-04", Completions: map[string]int{"reset/teams": 1}, ResetSeconds: map[int]int{90: 1}},
	}
	if _, err := report.SaveDays(ctx, st, days); err != nil {
		t.Fatal(err)
	}
	if err := report.SaveAdoption(ctx, st, report.Adoption{InScope: 200, Enrolled: 150, Ratio: 0.75, At: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	_ = st.Close()
	cfgFile := filepath.Join(dir, "resetbot.yaml")
	yaml := "mode: demo\nstore: {type: bolt, bolt: {path: " + db + "}}\ndirectories: [{name: demo, type: memory}]\n" +
		"notify: {outbox: true, sms: {provider: outbox}}\nreport: {cost_per_ticket: 20, currency: EUR}\n"
	if err := os.WriteFile(cfgFile, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := reportMain(ctx, []string{"-config", cfgFile, "-since", "30d", "-json"}, &out, &errOut, now); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var rep report.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("source=%s completed=%d median=%v p90=%v esc=%d defl=%.3f sat=%.3f saving=%.2f %s adoption=%d/%d",
		rep.Source, rep.Completed, rep.TimeToReset.MedianSeconds, rep.TimeToReset.P90Seconds, rep.Escalations, rep.Deflection,
		rep.Satisfaction.Share, rep.Saving, rep.Currency, rep.Adoption.Enrolled, rep.Adoption.InScope)
	if want := "source=store completed=5 median=90 p90=300 esc=1 defl=0.833 sat=0.667 saving=100.00 EUR adoption=150/200"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	out.Reset()
	if code := reportMain(ctx, []string{"-config", cfgFile}, &out, &errOut, now); code != 0 || !strings.Contains(out.String(), "75.0% (150 of 200") {
		t.Errorf("text: %d %s %s", code, out.String(), errOut.String())
	}
	if code := reportMain(ctx, []string{"-from", "store"}, &out, &errOut, now); code != 2 {
		t.Errorf("-from store without -config: exit %d", code)
	}
}
