package app

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/directory/memory"
	"github.com/resetbot/resetbot/core/regulation"
	storemem "github.com/resetbot/resetbot/core/store/memory"
	"github.com/resetbot/resetbot/flows"
)

// TestLifter: the help-desk lift ends a pause on every factor and typed
// form of the account, and is audited with who did it, found or not.
func TestLifter(t *testing.T) {
	ctx := context.Background()
	reg, err := regulation.New(storemem.New(), bytes.Repeat([]byte{3}, 32), regulation.Limits{}, regulation.SendLimits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := memory.New(memory.DemoAccounts()...)
	users, err := dir.Find(ctx, directory.ByLogin, "bnguyen")
	if err != nil || len(users) != 1 {
		t.Fatal(users, err)
	}
	u := users[0]
	rec := &audit.Recorder{}
	l := &lifter{dir: dir, reg: reg, audit: rec, log: slog.New(slog.DiscardHandler)}
	// Pause the app factor (account key) and the phone factor (typed e-mail form).
	paused := []regulation.Key{
		{Scope: regulation.ScopeUser, ID: u.Directory + ":" + u.ID, Factor: "app"},
		reg.Typed(u.Email).For("phone"),
	}
	for _, k := range paused {
		for range reg.Limits().AccountMaxFailures {
			if _, err := reg.Fail(ctx, k); err != nil {
				t.Fatal(err)
			}
		}
		if d, _ := reg.Attempt(ctx, k); d.Allowed {
			t.Fatalf("%v not paused", k)
		}
	}
	// A key scoped elsewhere lifts nothing and hears "not found".
	if found, err := l.Lift(ctx, "bao.nguyen@demo.example", "apikey:other", "api", func(string) bool { return false }); found || err != nil {
		t.Fatalf("Lift(out of scope) = %v, %v", found, err)
	}
	if d, _ := reg.Attempt(ctx, paused[0]); d.Allowed {
		t.Fatal("an out-of-scope lift lifted the pause")
	}
	if found, err := l.Lift(ctx, "bao.nguyen@demo.example", "agent:slack:T1:U1", "slack", nil); !found || err != nil {
		t.Fatalf("Lift = %v, %v", found, err)
	}
	for _, k := range paused {
		if d, _ := reg.Attempt(ctx, k); !d.Allowed {
			t.Fatalf("%v still paused after the lift: %+v", k, d)
		}
	}
	if found, err := l.Lift(ctx, "nobody-here", "apikey:hd", "api", nil); found || err != nil {
		t.Fatalf("Lift(unknown) = %v, %v", found, err)
	}
	evs := rec.Find(NameLifted)
	if len(evs) != 3 || evs[0].Outcome != audit.OutcomeFailure || evs[0].Reason != "not_found" ||
		evs[1].Actor != "agent:slack:T1:U1" || evs[1].Outcome != audit.OutcomeSuccess ||
		evs[2].Outcome != audit.OutcomeFailure || evs[2].Reason != "not_found" {
		t.Fatalf("audit: %+v", evs)
	}
	if n := len(flows.LiftKeys(reg.Typed, u)); n < 12 {
		t.Fatalf("LiftKeys gave %d keys", n)
	}
}
