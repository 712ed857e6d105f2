package slack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/handoff"
	"github.com/resetbot/resetbot/core/handoff/webhook"
	"github.com/resetbot/resetbot/core/secret"
)

const (
	agentChannel = "CAGENTS"
	helpChannel  = "CHELP"
	agentGroup   = "SAGENTS"
	itsmKey      = "rbk_slack_itsm_key_0123456789abcdefghij"
)

// itsmHook, when set, is the ITSM key's completion webhook.
var itsmHook webhook.Target

// newHandoffEnv is newEnv with the help desk wired as serve wires it: U7 is
// a member of the agent channel, U8 of the agent user group, escalations go
// to CHELP and the ITSM API accepts itsmKey.
func newHandoffEnv(t *testing.T, socket bool, mutate ...func(*Config)) (*env, *audit.Recorder) {
	t.Helper()
	sum := sha256.Sum256([]byte(itsmKey))
	e := newEnv(t, socket, func(c *config.Config, _ *Options) {
		slackOf(c).AgentChannel = agentChannel
		slackOf(c).HelpDeskChannel = helpChannel
		c.Handoff.APIKeys = []config.HandoffAPIKey{{ID: "itsm", Hash: "sha256:" + hex.EncodeToString(sum[:]),
			Scopes:     []string{config.ScopeHandoffsCreate, config.ScopeHandoffsRead},
			WebhookURL: itsmHook.URL, WebhookSecret: itsmHook.Secret}}
		for _, m := range mutate {
			m(slackOf(c))
		}
	})
	rec := &audit.Recorder{}
	e.b.o.Audit, e.b.o.Handoffs, e.b.o.HelpDeskChannel = rec, e.a.Handoffs.Store, helpChannel
	e.a.AddChannel(&opened{b: e.b})
	e.f.setUser("U7", fakeUser{Email: "agent.seven@demo.example", Locale: "en-US"})
	e.f.setUser("U8", fakeUser{Email: "agent.eight@demo.example", Locale: "en-US"})
	e.f.mu.Lock()
	e.f.members[agentChannel] = []string{"U7", "UBOT"}
	e.f.groups[agentGroup] = []string{"U8"}
	e.f.mu.Unlock()
	e.secrets = append(e.secrets, itsmKey)
	return e, rec
}

// handoffCmd runs the agent command and returns its ephemeral ack text.
func (e *env) handoffCmd(agent, channel, text string) string {
	e.t.Helper()
	ack := e.tr.command(e.t, url.Values{"command": {"/handoff"}, "team_id": {testTeam}, "user_id": {agent},
		"channel_id": {channel}, "trigger_id": {e.next("trg-")}, "text": {text}})
	var resp map[string]string
	if err := json.Unmarshal(ack, &resp); err != nil || resp["response_type"] != "ephemeral" {
		e.t.Fatalf("command ack %q", ack)
	}
	return resp["text"]
}

// handoffDM waits until the handoff's first step is in the DM of user and
// the jobs queued since done (the command's and the starter's) have ended,
// so the next step's wait counts only its own turn.
func (e *env) handoffDM(user string, done, jobs uint64) []posted {
	e.t.Helper()
	// A reset asks for the authenticator at once; agent-assisted
	// verification shows its menu.
	posts := e.waitPosts("handoff DM", 0, func(p posted) bool {
		return inDM(user, e.msg("totp.prompt"))(p) || inDM(user, e.msg("factor.choose"))(p)
	})
	waitFor(e.t, "handoff jobs", func() bool { return e.b.pool.Stats().Done >= done+jobs })
	return posts
}

// waitPosts waits until a post since n satisfies cond and returns them all.
func (e *env) waitPosts(what string, n int, cond func(posted) bool) []posted {
	e.t.Helper()
	waitFor(e.t, what, func() bool { return slices.ContainsFunc(e.f.postsSince(n), cond) })
	return e.f.postsSince(n)
}

func inDM(user, msg string) func(posted) bool {
	return func(p posted) bool { return p.Channel == "D"+user && strings.Contains(p.Text, msg) }
}

// agentStatus returns the parent status message in ch and its thread
// replies' texts, in order.
func (e *env) agentStatus(ch string) (parent posted, replies []string) {
	for _, p := range e.f.postsSince(0) {
		switch {
		case p.Channel != ch || p.Method != "chat.postMessage":
		case p.ThreadTS == "":
			parent = p
		case p.ThreadTS == parent.TS:
			replies = append(replies, p.Text)
		}
	}
	return parent, replies
}

// waitStatus waits for the agent's thread to reach want replies and checks
// each reply starts as expected and the parent was updated to the last
// status.
func (e *env) waitStatus(ch string, want ...string) posted {
	e.t.Helper()
	waitFor(e.t, "agent status", func() bool { _, r := e.agentStatus(ch); return len(r) >= len(want) })
	parent, replies := e.agentStatus(ch)
	if len(replies) != len(want) {
		e.t.Fatalf("status thread %q, want %q", replies, want)
	}
	for i, w := range want {
		if !strings.HasPrefix(replies[i], w) {
			e.t.Fatalf("status %d is %q, want %q…", i, replies[i], w)
		}
	}
	return parent
}

var handoffID = regexp.MustCompile(`Handoff ([A-Za-z0-9_-]+):`)

// handoffOf reads the handoff named in the agent's status message.
func (e *env) handoffOf(parent posted) handoff.Handoff {
	e.t.Helper()
	m := handoffID.FindStringSubmatch(parent.Text)
	if m == nil {
		e.t.Fatalf("no handoff ID in %q", parent.Text)
	}
	h, err := e.a.Handoffs.Store.Get(context.Background(), m[1])
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

// resetByCodes completes a reset in the DM of U1 with SMS and e-mail codes.
func (e *env) resetByCodes(posts []posted, password string) []posted {
	e.t.Helper()
	posts = e.click("U1", e.find(posts, e.msg("factor.sms")))
	meta, _ := e.openModal("U1", e.find(posts, e.msg("chat.button.code")))
	e.submit("U1", meta, e.lastCode())
	posts = e.dm("U1", e.lastCode()) // the email code was sent at once
	meta, _ = e.openModal("U1", e.find(posts, e.msg("chat.button.password")))
	e.secrets = append(e.secrets, password)
	resp, posts := e.submit("U1", meta, password, password)
	if resp["response_action"] != "clear" || !strings.Contains(texts(posts), "your password has been changed") {
		e.t.Fatalf("reset: ack %v, posted %q", resp, texts(posts))
	}
	return posts
}

// TestAgentHandoffReset: an agent hands @alice to the bot; she gets a DM,
// verifies with two codes and resets; the agent's thread in the agent
// channel shows started, verified, done, and the parent message shows done.
func TestAgentHandoffReset(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			e, _ := newHandoffEnv(t, tr.socket)
			done := e.b.pool.Stats().Done
			if got := e.handoffCmd("U7", agentChannel, "<@U1|alice> reset"); got != e.a.Messages.Text("en",
				"slack.agent.accepted", false, map[string]string{"action": "reset"}) {
				t.Fatalf("ack %q", got)
			}
			posts := e.handoffDM("U1", done, 2)
			if !strings.Contains(texts(posts), e.msg("chat.handoff.intro")) {
				t.Fatalf("no introduction in the DM: %q", texts(posts))
			}
			if strings.Contains(texts(posts), e.msg("identify.prompt")) {
				t.Fatal("a handoff must not ask who the user is")
			}
			e.resetByCodes(posts, "Handed-Over-Horse-Battery-42")
			parent := e.waitStatus(agentChannel, "Started:", "Verified with email", "Done:")
			h := e.handoffOf(parent)
			if h.Status != handoff.StatusDone || h.Requester != "agent:slack:T1:U7" || h.Channel != "slack" ||
				h.User != "alice.martin@demo.example" {
				t.Fatalf("handoff %+v", h)
			}
			waitFor(t, "parent updated", func() bool {
				for _, p := range e.f.postsSince(0) {
					if p.Method == "chat.update" && p.Channel == agentChannel && p.TS == parent.TS &&
						strings.HasSuffix(p.Text, "Status: done.") {
						return true
					}
				}
				return false
			})
			e.assertNoLeak()
		})
	}
}

// TestAgentCommandRefused: only agents may hand people over; everyone else
// is refused with the catalogued message and an audit event, and nothing
// reaches the user.
func TestAgentCommandRefused(t *testing.T) {
	group := func(c *Config) { c.AgentChannel, c.AgentUserGroup = "", agentGroup }
	none := func(c *Config) { c.AgentChannel = "" }
	for _, tc := range []struct {
		name, agent string
		cfg         []func(*Config)
		ok          bool
	}{
		{"not in agent channel", "U2", nil, false},
		{"agent channel member", "U7", nil, true},
		{"not in user group", "U7", []func(*Config){group}, false},
		{"user group member", "U8", []func(*Config){group}, true},
		{"no agents configured", "U7", []func(*Config){none}, false},
		{"explicit agent ID", "U2", []func(*Config){none, func(c *Config) { c.AgentIDs = []string{"U2"} }}, true},
		{"not an explicit agent ID", "U7", []func(*Config){none, func(c *Config) { c.AgentIDs = []string{"U2"} }}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, rec := newHandoffEnv(t, false, tc.cfg...)
			got := e.handoffCmd(tc.agent, "C1", "<@U1|alice> unlock")
			refused := rec.Find(audit.NameAuthnRejected)
			if !tc.ok {
				if got != e.msg("slack.agent.refused") || len(refused) != 1 || refused[0].Actor != "T1:"+tc.agent ||
					refused[0].Reason != "not_agent" {
					t.Fatalf("ack %q, audit %+v", got, refused)
				}
				if e.f.callCount("users.lookupByEmail") != 0 || e.f.callCount("conversations.open") != 0 ||
					e.spy.turns.Load() != 0 {
					t.Fatalf("a refused command reached the user: %v", e.f.calls)
				}
				return
			}
			if len(refused) != 0 || !strings.HasPrefix(got, "OK") {
				t.Fatalf("agent refused: ack %q, audit %+v", got, refused)
			}
			e.waitPosts("handoff DM", 0, inDM("U1", e.msg("chat.handoff.intro")))
		})
	}
}

// TestAgentCommandUsage: an agent who mistypes gets the usage, and no
// handoff starts.
func TestAgentCommandUsage(t *testing.T) {
	e, _ := newHandoffEnv(t, false)
	for _, text := range []string{"", "<@U1> reboot", "alice reset", "<@U1> reset now", "Typed-In-Channel-Pw1"} {
		if got := e.handoffCmd("U7", agentChannel, text); !strings.HasPrefix(got, "Usage: /handoff") {
			t.Fatalf("%q: ack %q", text, got)
		}
	}
	if e.f.callCount("users.lookupByEmail") != 0 || e.b.pool.Stats().Done != 0 {
		t.Fatal("a handoff started from a malformed command")
	}
	e.assertNoLeak("Typed-In-Channel-Pw1")
}

// TestAPIHandoffSlack: an ITSM tool creates a handoff with channel slack;
// the user is found by e-mail, reset in the DM, and the API reports done.
// A login cannot be looked up in Slack: that handoff fails as unreachable.
func TestAPIHandoffSlack(t *testing.T) {
	var (
		hmu  sync.Mutex
		hook []byte
		hsig string
	)
	recv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		hmu.Lock()
		hook, hsig = b, r.Header.Get(webhook.SignatureHeader)
		hmu.Unlock()
	}))
	defer recv.Close()
	const hookSecret = "whsec-slack-0123456789abcdefghijklmnop"
	webhookClient, itsmHook = recv.Client(), webhook.Target{URL: recv.URL + "/itsm", Secret: secret.New(hookSecret)}
	defer func() { webhookClient, itsmHook = nil, webhook.Target{} }()
	e, _ := newHandoffEnv(t, false)
	e.secrets = append(e.secrets, hookSecret)
	call := func(method, path, body string) (int, map[string]any) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+itsmKey)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		e.a.Handoffs.API.ServeHTTP(w, req)
		var out map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &out)
		return w.Code, out
	}
	done := e.b.pool.Stats().Done
	code, created := call("POST", "/api/v1/handoffs", `{"user":"alice.martin@demo.example","action":"reset","channel":"slack"}`)
	if code != http.StatusCreated || created["status"] != "started" {
		t.Fatalf("create: %d %v", code, created)
	}
	posts := e.handoffDM("U1", done, 1)
	e.resetByCodes(posts, "Ticketed-Horse-Battery-77")
	if code, view := call("GET", "/api/v1/handoffs/"+created["id"].(string), ""); code != 200 || view["status"] != "done" {
		t.Fatalf("status: %d %v", code, view)
	}
	// The ITSM tool receives the signed completion webhook, with no secret in it.
	waitFor(t, "completion webhook", func() bool { hmu.Lock(); defer hmu.Unlock(); return hook != nil })
	hmu.Lock()
	body, sig := hook, hsig
	hmu.Unlock()
	if !webhook.Verify(secret.New(hookSecret), sig, body, time.Now(), time.Minute) || !bytes.Contains(body, []byte(`"status":"done"`)) {
		t.Fatalf("webhook %s (signature %q)", body, sig)
	}
	for _, s := range append(e.secrets, "Ticketed-Horse-Battery-77") {
		if bytes.Contains(body, []byte(s)) {
			t.Fatal("a secret reached the webhook")
		}
	}
	if _, replies := e.agentStatus(agentChannel); len(replies) != 0 {
		t.Fatalf("an API handoff was reported in the agent channel: %q", replies)
	}
	// A handoff naming a login reaches the account's email of record.
	code, created = call("POST", "/api/v1/handoffs", `{"user":"amartin","action":"unlock","channel":"slack"}`)
	if code != http.StatusCreated || created["status"] != "started" {
		t.Fatalf("login handoff: %d %v", code, created)
	}
	// A login the directory does not know cannot be reached.
	code, created = call("POST", "/api/v1/handoffs", `{"user":"nobody","action":"unlock","channel":"slack"}`)
	if code != http.StatusCreated || created["status"] != "failed" {
		t.Fatalf("unknown login handoff: %d %v", code, created)
	}
	if h, err := e.a.Handoffs.Store.Get(context.Background(), created["id"].(string)); err != nil || h.Reason != handoff.ReasonNotPossible {
		t.Fatalf("unknown login handoff: %+v %v", h, err)
	}
	e.assertNoLeak()
}

// TestHandoffEscalation: the user asks for a person; the context packet is
// posted to the help-desk channel and the agent sees "escalated".
func TestHandoffEscalation(t *testing.T) {
	e, _ := newHandoffEnv(t, false)
	e.handoffCmd("U7", agentChannel, "<mailto:alice.martin@demo.example|alice.martin@demo.example> reset")
	posts := e.handoffDM("U1", 0, 2)
	posts = e.click("U1", e.find(posts, e.msg("factor.sms")))
	code := e.lastCode()
	e.dm("U1", "agent")
	help := e.waitPosts("escalation", 0, func(p posted) bool { return p.Channel == helpChannel })
	var packet string
	for _, p := range help {
		if p.Channel == helpChannel {
			packet = p.Text
		}
	}
	if !strings.HasPrefix(packet, "resetbot escalation ") || !strings.Contains(packet, "Reason: user_request") ||
		!strings.Contains(packet, "Channel: slack") {
		t.Fatalf("packet %q", packet)
	}
	e.waitStatus(agentChannel, "Started:", "Escalated")
	e.assertNoLeak(code)
}

// TestAgentVerify: agent-assisted verification; the agent learns that the
// person passed and with which factor.
var readbackNumber = regexp.MustCompile(`call: (\d{3} \d{3})\.`)

func TestAgentVerify(t *testing.T) {
	e, _ := newHandoffEnv(t, true, func(c *Config) { c.AgentChannel, c.AgentUserGroup = "", agentGroup })
	e.handoffCmd("U8", "C1", "<@U1> verify")
	posts := e.handoffDM("U1", 0, 2)
	posts = e.click("U1", e.find(posts, e.msg("factor.sms")))
	for range 3 {
		posts = e.dm("U1", e.lastCode())
		if strings.Contains(texts(posts), e.msg("factor.another")) {
			posts = e.click("U1", e.find(posts, e.msg("factor.email")))
			continue
		}
		break
	}
	// Verifying the account's factors is not enough: the DM shows a number
	// the caller must read back to the agent, who enters it.
	number := readbackNumber.FindStringSubmatch(texts(posts))
	if number == nil {
		t.Fatalf("verify: %q", texts(posts))
	}
	e.secrets = append(e.secrets, strings.ReplaceAll(number[1], " ", ""))
	// Without an agent channel the status goes to the agent's DM.
	parent := e.waitStatus("DU8", "Started:")
	id := e.handoffOf(parent).ID
	// Another agent cannot enter it; a wrong number is told; the right one
	// verifies (the agent types what the caller reads out).
	if got := e.handoffCmd("U7", "C1", "confirm "+id+" "+number[1]); got != e.msg("agent.readback.none") &&
		got != e.msg("slack.agent.refused") {
		t.Fatalf("another agent: %q", got)
	}
	if got := e.handoffCmd("U8", "C1", "confirm "+id+" 000 000"); got != e.msg("agent.readback.wrong") {
		t.Fatalf("wrong number: %q", got)
	}
	if got := e.handoffCmd("U8", "C1", "confirm "+id+" "+number[1]); got != e.msg("agent.readback.verified") {
		t.Fatalf("read-back: %q", got)
	}
	parent = e.waitStatus("DU8", "Started:", "Verified with", "Done:")
	if h := e.handoffOf(parent); h.Status != handoff.StatusDone || h.Action != handoff.ActionVerify || h.Factor == "" {
		t.Fatalf("handoff %+v", h)
	}
	e.assertNoLeak()
}

// TestAgentHandoffTargets: the DM speaks the person's locale; a guest
// cannot be reached (the agent sees the failure); an unknown Slack user is
// reported to the agent in a DM.
func TestAgentHandoffTargets(t *testing.T) {
	t.Run("spanish", func(t *testing.T) {
		e, _ := newHandoffEnv(t, false)
		e.handoffCmd("U7", agentChannel, "<@U3|farid> unlock")
		intro := e.a.Messages.Text("es", "chat.handoff.intro", false, nil)
		e.waitPosts("handoff DM", 0, inDM("U3", intro))
	})
	t.Run("guest", func(t *testing.T) {
		e, _ := newHandoffEnv(t, false)
		e.handoffCmd("U7", agentChannel, "<@U9> reset")
		e.waitStatus(agentChannel, "Failed (not_possible)")
		if e.f.callCount("conversations.open") != 0 || e.spy.turns.Load() != 0 {
			t.Fatal("a guest was contacted")
		}
	})
	t.Run("unknown", func(t *testing.T) {
		e, _ := newHandoffEnv(t, false)
		e.handoffCmd("U7", agentChannel, "<@UNOBODY> reset")
		e.waitPosts("agent told", 0, inDM("U7", e.msg("slack.agent.not_started")))
	})
}

// TestAgentCommandReplay: a replayed command (same trigger_id) starts one
// handoff.
func TestAgentCommandReplay(t *testing.T) {
	e, _ := newHandoffEnv(t, false)
	form := url.Values{"command": {"/handoff"}, "team_id": {testTeam}, "user_id": {"U7"},
		"channel_id": {agentChannel}, "trigger_id": {"trg-replayed"}, "text": {"<@U1> reset"}}
	e.tr.command(t, form)
	e.handoffDM("U1", 0, 2)
	if ack := e.tr.command(t, form); len(ack) != 0 {
		t.Fatalf("replay answered %q", ack)
	}
	e.waitStatus(agentChannel, "Started:")
	if n := e.f.callCount("users.lookupByEmail"); n != 1 || e.b.pool.Stats().Done != 2 {
		t.Fatalf("replay started another handoff: %d lookups", n)
	}
}

// TestAgentChannelMustBePrivate: members of a public agent channel (anyone
// can join) and guests in the agent channel are never agents.
func TestAgentChannelMustBePrivate(t *testing.T) {
	e, rec := newHandoffEnv(t, false)
	e.f.mu.Lock()
	e.f.public[agentChannel] = true
	e.f.mu.Unlock()
	if got := e.handoffCmd("U7", "C1", "<@U1|alice> unlock"); got != e.msg("slack.agent.check_failed") {
		t.Fatalf("public agent channel: ack %q", got)
	}
	e2, rec2 := newHandoffEnv(t, false)
	e2.f.setUser("U7", fakeUser{Email: "agent.seven@demo.example", Locale: "en-US", Guest: true})
	if got := e2.handoffCmd("U7", "C1", "<@U1|alice> unlock"); got != e2.msg("slack.agent.refused") ||
		len(rec2.Find(audit.NameAuthnRejected)) != 1 {
		t.Fatalf("guest agent: ack %q", got)
	}
	if e.spy.turns.Load() != 0 || e2.spy.turns.Load() != 0 || len(rec.Find("handoff.created")) != 0 {
		t.Fatal("a refused agent command started a handoff")
	}
}
