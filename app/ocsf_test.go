package app

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/audit"
)

// TestBestEffortNeverFails: a failing secondary copy does not fail the
// audited decision, and warns once, not per event.
func TestBestEffortNeverFails(t *testing.T) {
	var logs strings.Builder
	var failing failingSink
	b := &bestEffort{Sink: failing, log: slog.New(slog.NewTextHandler(&logs, nil)), what: "OCSF syslog"}
	for range 100 {
		if err := b.Write(context.Background(), audit.Event{Name: "flow.start"}); err != nil {
			t.Fatalf("error reached the caller: %v", err)
		}
	}
	if n := strings.Count(logs.String(), "secondary audit copy failing"); n != 1 {
		t.Errorf("%d warnings for 100 failures, want 1", n)
	}
}

type failingSink struct{}

func (failingSink) Write(context.Context, audit.Event) error { return errors.New("queue full") }
