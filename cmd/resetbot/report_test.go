package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/audit"
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
	if code := reportMain([]string{"-audit", file, "-since", "30d", "-json", "-cost-per-ticket", "30"}, &out, &errOut, now); code != 0 {
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
	if code := reportMain([]string{"-audit", file, "-since", "60d"}, &out, &errOut, now); code != 0 || !strings.Contains(out.String(), "Resets and unlocks completed") {
		t.Errorf("text: %d %s", code, out.String())
	}
	for _, bad := range [][]string{{"-since", "x"}, {"-since", "-3d", "-audit", file}, {}} {
		if code := reportMain(bad, &out, &errOut, now); code == 0 {
			t.Errorf("%v accepted", bad)
		}
	}
}
