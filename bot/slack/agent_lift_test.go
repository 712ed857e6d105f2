package slack

import (
	"context"
	"testing"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/regulation"
	"github.com/resetbot/resetbot/flows"
)

// pauseApp pauses the authenticator factor of login's account as strangers'
// wrong codes would, and returns the paused key.
func pauseApp(t *testing.T, reg *regulation.Regulator, dir directory.Directory, login string) regulation.Key {
	t.Helper()
	ctx := context.Background()
	users, err := dir.Find(ctx, directory.ByLogin, login)
	if err != nil || len(users) != 1 {
		t.Fatal(users, err)
	}
	k := flows.LiftKeys(reg.Typed, users[0])[0].For("app")
	for range reg.Limits().AccountMaxFailures {
		if _, err := reg.Fail(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if d, _ := reg.Check(ctx, k); d.Allowed {
		t.Fatal("not paused")
	}
	return k
}

// TestAgentLift: an agent lifts the bot's pause on @alice; the result comes
// in the agent's DM; someone who is not an agent cannot.
func TestAgentLift(t *testing.T) {
	e, rec := newHandoffEnv(t, false)
	e.b.o.Lifter = e.a.Handoffs.Lifter
	k := pauseApp(t, e.a.Regulator, e.a.Directory, "amartin")
	if got := e.handoffCmd("U2", "C1", "<@U1|alice> lift"); got != e.msg("slack.agent.refused") || len(rec.Find("authn.rejected")) != 1 {
		t.Fatalf("non-agent: ack %q", got)
	}
	if d, _ := e.a.Regulator.Check(context.Background(), k); d.Allowed {
		t.Fatal("a non-agent lifted the pause")
	}
	if got := e.handoffCmd("U7", agentChannel, "<@U1|alice> lift"); got != e.msg("agent.lift.accepted") {
		t.Fatalf("ack %q", got)
	}
	e.waitPosts("lift result", 0, inDM("U7", e.msg("agent.lift.done")))
	if d, _ := e.a.Regulator.Check(context.Background(), k); !d.Allowed {
		t.Fatalf("still paused after the lift: %+v", d)
	}
	if got := e.handoffCmd("U7", agentChannel, "nobody.here@demo.example LIFT"); got != e.msg("agent.lift.accepted") {
		t.Fatalf("ack %q", got)
	}
	e.waitPosts("lift of nobody", 0, inDM("U7", e.msg("agent.lift.none")))
}
