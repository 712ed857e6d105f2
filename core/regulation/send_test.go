package regulation

import (
	"fmt"
	"testing"
	"time"
)

func TestAllowSend(t *testing.T) {
	type send struct {
		dest, user string
		want       string // "" allowed, else the refusal reason
	}
	tests := []struct {
		name  string
		s     SendLimits
		sends []send
	}{
		{"per destination", SendLimits{}, []send{
			{"+1555001", "alice", ""}, {"+1555001", "alice", ""}, {"+1555001", "alice", ""},
			{"+1555001", "alice", ReasonDestinationBudget},
			{"+1555001", "bob", ReasonDestinationBudget}, // the number, whoever asks
			{"+1555002", "alice", ""},                    // refused sends used none of alice's budget
		}},
		{"per user", SendLimits{}, []send{
			{"+1555001", "alice", ""}, {"+1555002", "alice", ""}, {"a@example.org", "alice", ""},
			{"+1555003", "alice", ""}, {"+1555004", "alice", ""},
			{"+1555005", "alice", ReasonUserBudget},
			{"+1555005", "bob", ""}, // +1555005 was not counted for the refused send
			{"+1555005", "", ""},    // no user: per-user budget skipped
		}},
		{"global", SendLimits{GlobalPerHour: 4}, []send{
			{"+1555001", "u1", ""}, {"+1555002", "u2", ""}, {"+1555003", "u3", ""}, {"+1555004", "u4", ""},
			{"+1555005", "u5", ReasonGlobalBudget},
			{"+1555001", "u1", ReasonGlobalBudget},
		}},
		{"destination refused first keeps global", SendLimits{PerDestinationPerHour: 1, GlobalPerHour: 2}, []send{
			{"+1555001", "u1", ""},
			{"+1555001", "u2", ReasonDestinationBudget},
			{"+1555001", "u3", ReasonDestinationBudget},
			{"+1555002", "u4", ""}, // the global budget was not eaten by the refusals
			{"+1555003", "u5", ReasonGlobalBudget},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Limits{}, tt.s)
			for i, s := range tt.sends {
				d := f.must(f.reg.AllowSend(ctx, s.dest, s.user))
				if d.Allowed != (s.want == "") || d.Reason != s.want {
					t.Fatalf("send %d (%s for %q) = %+v, want %q", i+1, s.dest, s.user, d, s.want)
				}
				if !d.Allowed && d.RetryAfter != 45*time.Minute {
					t.Fatalf("RetryAfter = %v, want the 45 min left in the hour", d.RetryAfter)
				}
			}
		})
	}
}

func TestAllowSendHourWindow(t *testing.T) {
	f := newFixture(t, Limits{}, SendLimits{})
	for range 3 {
		f.must(f.reg.AllowSend(ctx, "+1555001", "alice"))
	}
	d := f.must(f.reg.AllowSend(ctx, "+1555001", "alice"))
	if d.Allowed || d.Key != Destination("+1555001") {
		t.Fatalf("4th send = %+v", d)
	}
	f.clock.Advance(d.RetryAfter - time.Second)
	if d := f.must(f.reg.AllowSend(ctx, "+1555001", "alice")); d.Allowed {
		t.Fatal("allowed one second before the hour")
	}
	f.clock.Advance(time.Second)
	if d := f.must(f.reg.AllowSend(ctx, "+1555001", "alice")); !d.Allowed {
		t.Fatalf("refused in the next hour: %+v", d)
	}
	if _, err := f.reg.AllowSend(ctx, "", "alice"); err == nil {
		t.Fatal("empty destination: want error")
	}
}

func TestAllowSendConcurrent(t *testing.T) {
	f := newFixture(t, Limits{}, SendLimits{PerDestinationPerHour: 1000, PerUserPerHour: 1000, GlobalPerHour: 25})
	results := make(chan bool, 60)
	for i := range 60 {
		go func() {
			d, err := f.reg.AllowSend(ctx, fmt.Sprintf("+1555%03d", i), fmt.Sprintf("u%d", i))
			results <- err == nil && d.Allowed
		}()
	}
	allowed := 0
	for range 60 {
		if <-results {
			allowed++
		}
	}
	// The first 25 increments are allowed; a give-back only follows a count
	// above 25, so exactly 25 pass.
	if allowed != 25 {
		t.Fatalf("%d sends allowed under a global budget of 25", allowed)
	}
}
