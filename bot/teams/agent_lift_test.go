package teams

import (
	"context"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/flows"
)

// TestAgentLift: an agent in the help-desk channel lifts the bot's pause on
// an account; anyone else is refused; the lift is audited with the agent.
func TestAgentLift(t *testing.T) {
	r := newRig(t, helpDesk)
	ctx := context.Background()
	reg := r.a.Regulator
	users, err := r.a.Directory.Find(ctx, directory.ByLogin, "amartin")
	if err != nil || len(users) != 1 {
		t.Fatal(users, err)
	}
	k := flows.LiftKeys(reg.Typed, users[0])[0].For("app")
	for range reg.Limits().AccountMaxFailures {
		if _, err := reg.Fail(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	say := func(user, text string) string {
		n := len(r.writes())
		r.send(r.mention(user, helpDeskConv, text))
		w := r.writes()[n:]
		if len(w) != 1 {
			t.Fatalf("writes %+v", w)
		}
		return w[0].Body
	}
	if got := say("mallory", "handoff alice.martin@demo.example lift"); !strings.Contains(got, "Only help-desk agents") {
		t.Fatalf("non-agent: %s", got)
	}
	if d, _ := reg.Check(ctx, k); d.Allowed {
		t.Fatal("a non-agent lifted the pause")
	}
	done := r.a.Messages.Text("en", "agent.lift.done", false, nil)
	if got := say("agent1", "handoff alice.martin@demo.example lift"); !strings.Contains(got, done[:20]) {
		t.Fatalf("agent: %s", got)
	}
	if d, _ := reg.Check(ctx, k); !d.Allowed {
		t.Fatalf("still paused: %+v", d)
	}
	if !strings.Contains(r.audit.String(), `"event":"regulation.lifted"`) || !strings.Contains(r.audit.String(), "agent:teams:aad-agent1") {
		t.Fatalf("lift not audited with the agent:\n%s", r.audit.String())
	}
	none := r.a.Messages.Text("en", "agent.lift.none", false, nil)
	if got := say("agent1", "handoff nobody.here@demo.example lift"); !strings.Contains(got, none[:20]) {
		t.Fatalf("unknown: %s", got)
	}
}
