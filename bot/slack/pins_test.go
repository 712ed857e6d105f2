package slack

import (
	"bytes"
	"net/url"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/config"
)

// TestPinnedOrigins: with team_ids, enterprise_id and api_app_id pinned,
// validly signed events, commands and interactions from another workspace,
// organisation or app never start a turn and are audited with the reason;
// the pinned origin is served.
func TestPinnedOrigins(t *testing.T) {
	e := newEnv(t, false, func(c *config.Config, _ *Options) {
		slackOf(c).TeamIDs = []string{testTeam}
		slackOf(c).EnterpriseID = "E1"
		slackOf(c).APIAppID = "A1"
	})
	rec := &audit.Recorder{}
	e.b.o.Audit = rec
	withEnterprise := func(b []byte, ent string) []byte {
		return bytes.Replace(b, []byte(`"api_app_id"`), []byte(`"enterprise_id":"`+ent+`","api_app_id"`), 1)
	}
	events := []struct {
		name, reason string
		body         []byte
	}{
		{"foreign team", "foreign_team", withEnterprise(bytes.Replace(messageEvent("Ev1", "U1", "DU1", "reset"), []byte(`"T1"`), []byte(`"T9"`), 1), "E1")},
		{"foreign enterprise", "foreign_enterprise", withEnterprise(messageEvent("Ev2", "U1", "DU1", "reset"), "E9")},
		{"no enterprise", "foreign_enterprise", messageEvent("Ev3", "U1", "DU1", "reset")},
		{"foreign app", "foreign_app", withEnterprise(bytes.Replace(messageEvent("Ev4", "U1", "DU1", "reset"), []byte(`"A1"`), []byte(`"A9"`), 1), "E1")},
	}
	for _, ev := range events {
		if code := e.tr.event(t, ev.body); code != 200 {
			t.Fatalf("%s: status %d", ev.name, code)
		}
	}
	cmd := url.Values{"command": {"/resetpassword"}, "team_id": {testTeam}, "enterprise_id": {"E1"}, "api_app_id": {"A9"},
		"user_id": {"U1"}, "channel_id": {"DU1"}, "trigger_id": {"trg-x"}}
	if ack := e.tr.command(t, cmd); len(ack) != 0 && string(ack) != "null" {
		t.Fatalf("a foreign app's command was answered: %s", ack)
	}
	act := actionPayload("U1", "trg-y", button{ActionID: actionChoice + "_0", BlockID: "act0", Value: "v", Label: "x"})
	act = bytes.Replace(act, []byte(`"type":"block_actions"`), []byte(`"type":"block_actions","api_app_id":"A1","enterprise":{"id":"E9"}`), 1)
	e.tr.interact(t, act)
	if e.b.pool.Stats().Queued != 0 || e.spy.turns.Load() != 0 {
		t.Fatal("a request from an unpinned origin was queued")
	}
	got := map[string]int{}
	for _, r := range rec.Find(audit.NameAuthnRejected) {
		got[r.Reason+"/"+r.Fields["kind"]]++
	}
	want := map[string]int{"foreign_team/event": 1, "foreign_enterprise/event": 2, "foreign_app/event": 1,
		"foreign_app/command": 1, "foreign_enterprise/interaction": 1}
	for k, n := range want {
		if got[k] != n {
			t.Fatalf("audit %v, want %v", got, want)
		}
	}
	ok := withEnterprise(messageEvent("Ev9", "U1", "DU1", "reset"), "E1")
	posts := e.step(func() { e.tr.event(t, ok) })
	if e.spy.turns.Load() != 1 || len(posts) == 0 || strings.Contains(texts(posts), e.msg("chat.not_allowed")) {
		t.Fatalf("the pinned origin was not served: %d turns", e.spy.turns.Load())
	}
}

// TestAgentRemovedTakesEffectAtOnce: agent rights are read from Slack on
// every command; an agent taken out of the private agent channel is refused
// on the very next command.
func TestAgentRemovedTakesEffectAtOnce(t *testing.T) {
	e, rec := newHandoffEnv(t, false)
	if got := e.handoffCmd("U7", "C1", "<@U1|alice> unlock"); !strings.HasPrefix(got, "OK") {
		t.Fatalf("agent refused: %q", got)
	}
	e.f.mu.Lock()
	e.f.members[agentChannel] = []string{"UBOT"}
	e.f.mu.Unlock()
	if got := e.handoffCmd("U7", "C1", "<@U1|alice> unlock"); got != e.msg("slack.agent.refused") {
		t.Fatalf("removed agent served: %q", got)
	}
	if n := len(rec.Find(audit.NameAuthnRejected)); n != 1 {
		t.Fatalf("%d refusals audited", n)
	}
}
