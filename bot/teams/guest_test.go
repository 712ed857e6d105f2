package teams

import (
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/config"
)

// TestGuestsRefused: Entra B2B guests carry our tenant ID, so the tenant
// check lets them in; the member lookup tells them apart and they are
// refused as on Slack, with an audit record, before any turn. A failed
// lookup refuses too. allow_guests lets them in.
func TestGuestsRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		member map[string]string // nil: the lookup fails
		allow  bool
		reason string // "" means served
	}{
		{"member", map[string]string{"userRole": "user", "tenantId": testTenant}, false, ""},
		{"guest role", map[string]string{"userRole": "guest", "tenantId": testTenant}, false, "guest_role"},
		{"#EXT# UPN", map[string]string{"userPrincipalName": "bob_other.example#EXT#@corp.onmicrosoft.com", "tenantId": testTenant}, false, "guest_upn"},
		{"other home tenant", map[string]string{"userRole": "user", "tenantId": "99999999-0000-0000-0000-000000000000"}, false, "foreign_home_tenant"},
		{"another object ID", map[string]string{"userRole": "user", "tenantId": testTenant, "aadObjectId": "aad-someone-else"}, false, "object_id_mismatch"},
		{"lookup fails", nil, false, "member_lookup_failed"},
		{"guest allowed", map[string]string{"userRole": "guest", "tenantId": testTenant}, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, func(c *config.Config) { teamsOf(c).AllowGuests = tc.allow })
			r.fake.strictMembers = true
			if tc.member != nil {
				m := map[string]string{"id": "29:visitor", "aadObjectId": "aad-visitor"}
				for k, v := range tc.member {
					m[k] = v
				}
				r.fake.members["29:visitor"] = m
			}
			r.say("visitor", "reset")
			w := r.writes()
			if len(w) != 1 {
				t.Fatalf("want one answer, got %d", len(w))
			}
			refused := strings.Contains(w[0].Body, "cannot use resetbot") || strings.Contains(w[0].Body, "could not check your account")
			if refused != (tc.reason != "") {
				t.Fatalf("refused=%v, want reason %q: %s", refused, tc.reason, w[0].Body)
			}
			if tc.reason == "" {
				return
			}
			if strings.Contains(w[0].Body, "AdaptiveCard") {
				t.Fatal("a refused person got a card")
			}
			found := false
			for _, e := range r.rejections() {
				found = found || e["reason"] == tc.reason
			}
			if !found {
				t.Fatalf("no authn.rejected with reason %s: %v", tc.reason, r.rejections())
			}
		})
	}
}

// TestAgentsNeedExplicitIDs: with agent_ids empty nobody is an agent, even a
// member of the help-desk channel; a guest listed by mistake is refused too;
// removing an ID takes effect on the next command.
func TestAgentsNeedExplicitIDs(t *testing.T) {
	r := newRig(t, helpDesk, func(c *config.Config) { teamsOf(c).AgentIDs = nil })
	r.send(r.mention("agent1", helpDeskConv, "handoff alice.martin@demo.example reset"))
	if w := r.to("helpdesk"); len(w) != 1 || !strings.Contains(w[0].Body, "Only help-desk agents") {
		t.Fatalf("with no agent_ids a channel member was an agent: %+v", w)
	}

	r2 := newRig(t, helpDesk, func(c *config.Config) { teamsOf(c).AgentIDs = []string{"aad-agent1", "aad-guest1"} })
	r2.fake.members["29:guest1"] = map[string]string{"id": "29:guest1", "aadObjectId": "aad-guest1", "userRole": "guest", "tenantId": testTenant}
	r2.send(r2.mention("guest1", helpDeskConv, "handoff alice.martin@demo.example reset"))
	if w := r2.to("helpdesk"); len(w) != 1 || !strings.Contains(w[0].Body, "cannot use resetbot") {
		t.Fatalf("a guest listed as agent was served: %+v", w)
	}
	r2.bot.cfg.AllowGuests = true // guests may use the bot, never as agents
	r2.send(r2.mention("guest1", helpDeskConv, "handoff alice.martin@demo.example reset"))
	if w := r2.to("helpdesk"); len(w) != 2 || !strings.Contains(w[1].Body, "Only help-desk agents") {
		t.Fatalf("a guest was an agent with allow_guests: %+v", w)
	}
	r2.bot.cfg.AgentIDs = []string{"aad-guest1"} // agent1 removed: refused at once
	r2.send(r2.mention("agent1", helpDeskConv, "handoff alice.martin@demo.example reset"))
	if w := r2.to("helpdesk"); len(w) != 3 || !strings.Contains(w[2].Body, "Only help-desk agents") {
		t.Fatalf("a removed agent was still served: %+v", w)
	}
}
