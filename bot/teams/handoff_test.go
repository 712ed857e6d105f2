package teams

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/handoff"
	"github.com/resetbot/resetbot/flows"
)

const (
	helpDeskConv = "19:helpdesk@thread.tacv2"
	apiKey       = "rbk_teams_test_key_0123456789abcdefghij"
)

// helpDesk configures the help-desk channel, one agent and an API key.
func helpDesk(c *config.Config) {
	teamsOf(c).HelpDeskChannel = helpDeskConv
	teamsOf(c).AgentIDs = []string{"aad-agent1"}
	sum := sha256.Sum256([]byte(apiKey))
	c.Handoff.APIKeys = []config.HandoffAPIKey{{ID: "itsm", Hash: "sha256:" + hex.EncodeToString(sum[:]),
		Scopes: []string{config.ScopeHandoffsCreate, config.ScopeHandoffsRead}}}
}

// mention is user @mentioning the bot in a team channel conversation.
func (r *rig) mention(user, conv, text string) map[string]any {
	act := r.activity(user, "message")
	act["conversation"] = map[string]any{"id": conv + ";messageid=" + act["id"].(string), "conversationType": "channel",
		"isGroup": true, "tenantId": testTenant}
	act["text"] = "<at>resetbot</at> " + text
	act["entities"] = []map[string]any{{"type": "mention", "text": "<at>resetbot</at>",
		"mentioned": map[string]string{"id": "28:" + testAppID, "name": "resetbot"}}}
	return act
}

// in moves an activity into the personal chat conv.
func in(act map[string]any, conv string) map[string]any {
	act["conversation"] = map[string]string{"id": conv, "conversationType": "personal", "tenantId": testTenant}
	return act
}

// to returns the writes into conversations whose ID contains conv.
func (r *rig) to(conv string) []captured {
	var out []captured
	for _, c := range r.writes() {
		if strings.Contains(c.Path, conv) {
			out = append(out, c)
		}
	}
	return out
}

// personalConv is the personal chat the bot created last.
func (r *rig) personalConv() string {
	r.t.Helper()
	var conv string
	for _, c := range r.writes() {
		if i := strings.Index(c.Path, "a:personal-"); i >= 0 {
			conv, _, _ = strings.Cut(c.Path[i:], "/")
		}
	}
	if conv == "" {
		r.t.Fatal("no personal chat was created")
	}
	return conv
}

// statuses are the Status lines of every version of the status card, in
// order, with repeats folded.
func (r *rig) statuses() []string {
	r.t.Helper()
	var out []string
	for _, c := range r.to("helpdesk") {
		if !strings.Contains(c.Body, "attachments") {
			continue
		}
		for _, line := range strings.Split(texts(cardOf(r.t, []byte(c.Body))), "\n") {
			if s, ok := strings.CutPrefix(line, "Status: "); ok && (len(out) == 0 || out[len(out)-1] != s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// shownIn is the newest card written into conv and its activity ID.
func (r *rig) shownIn(conv string) (map[string]any, string) {
	r.t.Helper()
	w := r.to(conv)
	if len(w) == 0 {
		r.t.Fatalf("nothing was written to %s", conv)
	}
	return cardOf(r.t, []byte(w[len(w)-1].Body)), w[len(w)-1].ID
}

// finishReset runs the personal-chat reset from the card the handoff posted.
func (r *rig) finishReset(user, conv, pw string) {
	r.t.Helper()
	card, id := r.shownIn(conv)
	if !strings.Contains(texts(card), "authenticator app") {
		r.t.Fatalf("the handoff card:\n%s", texts(card))
	}
	step := func(data map[string]any, want string) {
		r.t.Helper()
		act := in(r.activity(user, "message"), conv)
		act["value"], act["replyToId"] = data, id
		r.send(act)
		card, id = r.shownIn(conv)
		if !strings.Contains(texts(card), want) {
			r.t.Fatalf("want %q in card:\n%s", want, texts(card))
		}
	}
	step(map[string]any{tokenKey: r.button(card, user, "c:sms")}, "by text message")
	step(map[string]any{tokenKey: r.button(card, user, valueText), fieldText: r.code()}, "is on its way to")
	step(map[string]any{tokenKey: r.button(card, user, valueText), fieldText: r.code()}, "choose a new password")
	step(map[string]any{tokenKey: r.button(card, user, valueSecret), fieldPass: pw, fieldPass2: pw}, "your password has been changed")
}

// TestAgentHandoffReset: an agent mentions the bot in the help-desk channel;
// the bot opens a personal chat with the user (met earlier), who resets
// their password; the agent's card goes started → verified → done and
// never shows a secret.
func TestAgentHandoffReset(t *testing.T) {
	r := newRig(t, helpDesk)
	const pw = "Lantern-Cobalt-Harbor-64"
	r.known = append(r.known, pw)
	// Alice installed the app once: the bot met her.
	up := r.activity("amartin", "conversationUpdate")
	up["membersAdded"] = []map[string]string{{"id": "28:" + testAppID}}
	r.send(up)

	r.send(r.mention("agent1", helpDeskConv, "handoff alice.martin@demo.example reset"))
	conv := r.personalConv()
	personal := r.to(conv)
	if len(personal) != 2 || !strings.Contains(personal[0].Body, "help desk asked me") {
		t.Fatalf("personal chat got %+v", personal)
	}
	if got := r.statuses(); !slices.Equal(got, []string{"started"}) {
		t.Fatalf("status card: %q", got)
	}
	first := r.to("helpdesk")[0]
	if first.Method != http.MethodPost || !strings.Contains(first.Body, `"replyToId"`) {
		t.Fatalf("the status card is not a reply in the agent's thread: %+v", first)
	}

	r.finishReset("amartin", conv, pw)
	if got := r.statuses(); !slices.Equal(got, []string{"started", "verified", "done"}) {
		t.Fatalf("status card sequence %q, want started, verified, done", got)
	}
	for _, c := range r.to("helpdesk")[1:] {
		if c.Method != http.MethodPut || c.ID != first.ID {
			t.Fatalf("the status card was not updated in place: %+v", c)
		}
	}
	last := r.to("helpdesk")
	if final := texts(cardOf(t, []byte(last[len(last)-1].Body))); !strings.Contains(final, "Verified with: email") ||
		!strings.Contains(final, "Reference: ") {
		t.Errorf("final status card:\n%s", final)
	}
	if !strings.Contains(r.audit.String(), "agent:teams:aad-agent1") {
		t.Error("the handoff is not attributed to the agent in the audit trail")
	}
	r.sweep()
}

// TestAgentCommandRefused: outside the help-desk channel, or from someone
// not on the agent list, the command is refused with one audit event and
// starts nothing; a malformed command gets the usage.
func TestAgentCommandRefused(t *testing.T) {
	r := newRig(t, helpDesk)
	tests := []struct {
		name, user, conv, text, reply, reason string
	}{
		{"not an agent", "mallory", helpDeskConv, "handoff alice.martin@demo.example reset", "Only help-desk agents", "not_agent"},
		{"agent elsewhere", "agent1", "19:general@thread.tacv2", "handoff alice.martin@demo.example unlock", "Only help-desk agents", "not_help_desk_channel"},
		{"usage", "agent1", helpDeskConv, "handoff alice.martin@demo.example", "mention me with", ""},
		{"unknown action", "agent1", helpDeskConv, "handoff alice.martin@demo.example delete", "mention me with", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			refusals := strings.Count(r.audit.String(), `"event":"handoff.refused"`)
			n := len(r.writes())
			r.send(r.mention(tt.user, tt.conv, tt.text))
			w := r.writes()[n:]
			if len(w) != 1 || !strings.Contains(w[0].Body, tt.reply) || strings.Contains(w[0].Body, "attachments") {
				t.Fatalf("writes %+v", w)
			}
			got := strings.Count(r.audit.String(), `"event":"handoff.refused"`) - refusals
			if want := map[bool]int{true: 1, false: 0}[tt.reason != ""]; got != want {
				t.Fatalf("%d handoff.refused events, want %d", got, want)
			}
			if tt.reason != "" && !strings.Contains(r.audit.String(), `"reason":"`+tt.reason+`"`) {
				t.Errorf("no audit reason %s", tt.reason)
			}
		})
	}
	for _, c := range r.fake.requests() {
		if c.Path == "/v3/conversations" {
			t.Fatal("a refused command opened a personal chat")
		}
	}
	if strings.Contains(r.audit.String(), handoff.NameCreated) {
		t.Error("a refused command created a handoff")
	}
}

// TestAgentHandoffUnreachable: a person the bot never met and who is not in
// the help-desk team fails clearly: failed / not_possible on the card.
func TestAgentHandoffUnreachable(t *testing.T) {
	r := newRig(t, helpDesk)
	r.send(r.mention("agent1", helpDeskConv, "handoff fhaddad unlock"))
	if got := r.statuses(); !slices.Equal(got, []string{"failed"}) {
		t.Fatalf("status card %q, want failed", got)
	}
	if !strings.Contains(r.to("helpdesk")[0].Body, "Reason: not_possible") {
		t.Errorf("no reason on the card: %s", r.to("helpdesk")[0].Body)
	}
}

// TestAPIHandoffVerify: an ITSM tool hands Bao (never seen by the bot, but a
// member of the help-desk team, found by his e-mail from the directory) to
// the bot for agent-assisted verification; he passes by SMS code and the
// API reports done with the factor.
func TestAPIHandoffVerify(t *testing.T) {
	if flows.FlowVerify != string(handoff.ActionVerify) {
		t.Fatal("the verify action no longer names the verify flow")
	}
	r := newRig(t, helpDesk)
	r.fake.mu.Lock()
	r.fake.members["bao.nguyen@demo.example"] = map[string]string{"id": "29:bnguyen", "aadObjectId": "aad-bnguyen",
		"email": "bao.nguyen@demo.example", "userPrincipalName": "bao.nguyen@demo.example", "tenantId": testTenant}
	r.fake.mu.Unlock()
	// Any authenticated activity teaches the bot the service URL.
	r.say("amartin", "hello")

	call := func(method, path, body string) (int, map[string]any) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+apiKey)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		r.a.Handoffs.API.ServeHTTP(w, req)
		var out map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &out)
		return w.Code, out
	}
	code, created := call("POST", "/api/v1/handoffs", `{"user":"bnguyen","action":"verify","channel":"teams"}`)
	if code != http.StatusCreated || created["status"] != "started" {
		t.Fatalf("create: %d %v", code, created)
	}
	r.known = append(r.known, apiKey)
	conv := r.personalConv()
	card, id := r.shownIn(conv)
	if !strings.Contains(texts(card), "How would you like to verify?") {
		t.Fatalf("verify card:\n%s", texts(card))
	}
	submit := func(data map[string]any) {
		act := in(r.activity("bnguyen", "message"), conv)
		act["value"], act["replyToId"] = data, id
		r.send(act)
		card, id = r.shownIn(conv)
	}
	submit(map[string]any{tokenKey: r.button(card, "bnguyen", "c:sms")})
	submit(map[string]any{tokenKey: r.button(card, "bnguyen", valueText), fieldText: r.code()})
	if len(inputs(card)) != 0 {
		t.Errorf("verification ended with inputs on the card:\n%s", texts(card))
	}
	// The factors alone do not verify the caller: the card shows a number
	// the caller reads back, and the ticketing system enters it.
	hid := created["id"].(string)
	number := regexp.MustCompile(`call: (\d{3} \d{3})\.`).FindStringSubmatch(texts(card))
	if number == nil {
		t.Fatalf("no read-back number:\n%s", texts(card))
	}
	r.known = append(r.known, strings.ReplaceAll(number[1], " ", ""))
	if code, view := call("GET", "/api/v1/handoffs/"+hid, ""); code != http.StatusOK || view["status"] != "started" {
		t.Fatalf("verified before the read-back: %d %v", code, view)
	}
	if code, out := call("POST", "/api/v1/handoffs/"+hid+"/readback", `{"phrase":"`+number[1]+`"}`); code != http.StatusOK || out["result"] != "verified" {
		t.Fatalf("read-back: %d %v", code, out)
	}
	code, view := call("GET", "/api/v1/handoffs/"+hid, "")
	if code != http.StatusOK || view["status"] != "done" || view["factor"] != "readback" {
		t.Fatalf("status: %d %v", code, view)
	}
	if len(r.to("helpdesk")) != 0 {
		t.Error("an API handoff posted in the help-desk channel")
	}
	r.sweep()
}

// TestEscalationToHelpDeskChannel: a user asking for a person produces a
// context packet in the help-desk channel, without secrets.
func TestEscalationToHelpDeskChannel(t *testing.T) {
	r := newRig(t, helpDesk)
	r.say("amartin", "reset")
	card, id := r.shown()
	r.submit("amartin", id, map[string]any{tokenKey: r.button(card, "amartin", "c:sms")})
	card, id = r.shown()
	r.submit("amartin", id, map[string]any{tokenKey: r.button(card, "amartin", valueText), fieldText: "000000"})
	r.code()
	r.say("amartin", "agent")
	got := r.fake.waitFor(1, func(c captured) bool { return strings.Contains(c.Path, "helpdesk") })
	var out Outgoing
	if err := json.Unmarshal([]byte(got[0].Body), &out); err != nil || out.Text == "" || len(out.Attachments) != 0 {
		t.Fatalf("escalation post %s (%v)", got[0].Body, err)
	}
	if !strings.Contains(out.Text, "Channel: teams") || !strings.Contains(out.Text, "sms") {
		t.Errorf("packet lacks context:\n%s", out.Text)
	}
	r.sweep()
}

// TestStarterRefusesOtherChannels: the Teams starter only starts Teams handoffs.
func TestStarterRefusesOtherChannels(t *testing.T) {
	r := newRig(t, helpDesk)
	if err := r.bot.StartHandoff(context.Background(), handoff.Handoff{ID: "x", Channel: "slack", User: "amartin"}); err == nil {
		t.Fatal("a Slack handoff was started on Teams")
	}
}

// TestAgentCommandReplayed: the Bot Framework redelivering the agent's
// message starts one handoff, not two.
func TestAgentCommandReplayed(t *testing.T) {
	r := newRig(t, helpDesk)
	act := r.mention("agent1", helpDeskConv, "handoff fhaddad reset")
	r.send(act)
	r.send(act)
	if n := strings.Count(r.audit.String(), `"event":"`+handoff.NameCreated+`"`); n != 1 {
		t.Fatalf("%d handoffs created, want 1", n)
	}
	// One card posted; the failed start may update it (a PUT, from the
	// pool, possibly before this check): updates are not new cards.
	posted := 0
	for _, c := range r.to("helpdesk") {
		if c.Method == http.MethodPost {
			posted++
		}
	}
	if posted != 1 {
		t.Errorf("%d status cards, want 1", posted)
	}
}
