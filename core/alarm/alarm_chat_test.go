package alarm_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/alarm"
	"github.com/resetbot/resetbot/core/audit"
)

type posts struct {
	mu    sync.Mutex
	texts []string
	gate  chan struct{}
}

func (p *posts) Post(_ context.Context, text string) error {
	if p.gate != nil {
		<-p.gate
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.texts = append(p.texts, text)
	return nil
}

// TestChatOneMessagePerIncident: a caller trying six accounts is one
// incident, so the chat channel gets one message, with the number masked.
func TestChatOneMessagePerIncident(t *testing.T) {
	p := &posts{}
	c := alarm.NewChat("slack:C1", p, 8, nil)
	d := alarm.New(alarm.Thresholds{AccountsPerIdentity: 3}, c, nil)
	ctx := context.Background()
	for i, acct := range []string{"a", "b", "c", "d", "e", "f"} {
		s := "s" + acct
		at := t0.Add(time.Duration(i) * time.Minute)
		_ = d.Write(ctx, audit.Event{Time: at, Name: "flow.start", Session: s, Channel: "voice", Actor: "voice:+15550101234", Ref: "R" + acct})
		_ = d.Write(ctx, audit.Event{Time: at, Name: audit.NameTransition, Session: s, Channel: "voice", Actor: "dir:" + acct, Ref: "R" + acct})
	}
	_ = c.Close()
	if len(p.texts) != 1 {
		t.Fatalf("%d messages, want 1: %q", len(p.texts), p.texts)
	}
	msg := p.texts[0]
	if strings.Contains(msg, "5550101234") || !strings.Contains(msg, "voice:") || !strings.Contains(msg, "Ra, Rb, Rc") {
		t.Errorf("message:\n%s", msg)
	}
}

// TestChatQueueBounded: a stuck channel never blocks the audit write; the
// overflow is refused with ErrQueueFull.
func TestChatQueueBounded(t *testing.T) {
	p := &posts{gate: make(chan struct{})}
	c := alarm.NewChat("slack:C1", p, 2, nil)
	var full int
	for range 6 {
		if err := c.Notify(context.Background(), alarm.Alert{Rule: alarm.RuleNotMe}); err == alarm.ErrQueueFull {
			full++
		}
	}
	// One alert may be in the worker, two queued: at least three refused.
	if full < 3 {
		t.Errorf("%d refused, want at least 3", full)
	}
	close(p.gate)
	_ = c.Close()
	if n := len(p.texts); n != 6-full {
		t.Errorf("%d posted, want %d", n, 6-full)
	}
}
