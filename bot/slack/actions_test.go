package slack

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/resetbot/resetbot/core/crypt"
	"github.com/resetbot/resetbot/core/engine"
	rbtotp "github.com/resetbot/resetbot/core/identity/totp"
	"github.com/resetbot/resetbot/core/secret"
)

// enrollApp gives the demo account login an authenticator app and returns
// its seed, with the app's own keys (the enrollment flow has its own
// tests). The confirmation uses the previous 30-second step, so the
// flow's first code (the current step) is not a replay.
func (e *env) enrollApp(login string) string {
	e.t.Helper()
	primary, keys, err := e.a.Config.Keys.ParseEncryption()
	if err != nil {
		e.t.Fatal(err)
	}
	kr, err := crypt.NewKeyring(primary, keys)
	if err != nil {
		e.t.Fatal(err)
	}
	v := rbtotp.New(e.a.Store, kr, rbtotp.Options{Issuer: "resetbot"})
	ctx, key := context.Background(), "demo:uid="+login+",ou=people,dc=demo,dc=example"
	en, err := v.Begin(ctx, key, login)
	if err != nil {
		e.t.Fatal(err)
	}
	code, _ := totp.GenerateCode(en.Secret.Reveal(), time.Now().Add(-30*time.Second))
	if _, err := v.Confirm(ctx, key, secret.New(code)); err != nil {
		e.t.Fatal(err)
	}
	e.secrets = append(e.secrets, en.Secret.Reveal())
	return en.Secret.Reveal()
}

// shownModal is a modal the person sees: opened by views.open or put in
// place by a response_action update.
type shownModal struct {
	meta   string
	inputs int
	text   string // its section texts and input labels
}

func parseModal(t testing.TB, raw []byte) *shownModal {
	var v struct {
		PrivateMetadata string           `json:"private_metadata"`
		Blocks          []map[string]any `json:"blocks"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	m := &shownModal{meta: v.PrivateMetadata}
	for _, bl := range v.Blocks {
		b, _ := json.Marshal(bl)
		m.text += string(b)
		if bl["type"] == "input" {
			m.inputs++
		}
	}
	return m
}

// person plays someone who does the least the bot asks: each masked
// prompt answered with the right value, the authenticator preferred in any
// factor menu. It counts every delivery it makes to Slack's bot: messages,
// commands, clicks and submissions.
type person struct {
	e           *env
	user, seed  string
	password    string
	actions     int
	trail       []string
	posts       []posted
	modal       *shownModal
	lastAppCode string
	usedOutbox  int
	maxActions  int
}

func (p *person) act(what string) {
	p.actions++
	p.trail = append(p.trail, what)
	if p.actions > p.maxActions {
		p.e.t.Fatalf("more than %d actions: %v\nlast: %q", p.maxActions, p.trail, texts(p.posts))
	}
}

// opened picks up a modal that the last action's trigger opened.
func (p *person) opened(before int) {
	if n := p.e.f.viewCount(); n > before {
		p.modal = parseModal(p.e.t, p.e.f.viewAt(n-1))
	}
}

// start runs the slash command, or clicks the App Home button.
func (p *person) start(flow string, home bool) {
	e, n := p.e, p.e.f.viewCount()
	if home {
		p.act("home:" + flow)
		b := button{ActionID: actionHome + flow, BlockID: "home", Value: flow, Label: flow}
		p.posts = e.step(func() { e.tr.interact(e.t, homeActionPayload(p.user, e.next("trg-"), b)) })
	} else {
		p.act("command:" + flow)
		cmd := map[string]string{"reset": "/resetpassword", "unlock": "/unlock"}[flow]
		p.posts = e.step(func() {
			e.tr.command(e.t, url.Values{"command": {cmd}, "team_id": {testTeam}, "user_id": {p.user},
				"channel_id": {"D" + p.user}, "trigger_id": {e.next("trg-")}})
		})
	}
	p.opened(n)
}

// value is what the person types in the open modal.
func (p *person) value() []string {
	e := p.e
	if p.modal.inputs == 2 {
		e.secrets = append(e.secrets, p.password)
		return []string{p.password, p.password}
	}
	// A code sent since the last one used is the one asked for; otherwise
	// the prompt is the authenticator app's.
	if n := len(e.a.Outbox.Messages()); n > p.usedOutbox {
		p.usedOutbox = n
		return []string{e.lastCode()}
	}
	at := time.Now()
	code, _ := totp.GenerateCode(p.seed, at)
	if code == p.lastAppCode { // the same step twice would be a replay
		code, _ = totp.GenerateCode(p.seed, at.Add(30*time.Second))
	}
	p.lastAppCode = code
	e.secrets = append(e.secrets, code)
	return []string{code}
}

func jsonText(s string) string { b, _ := json.Marshal(s); return strings.Trim(string(b), `"`) }

// finish acts until done appears or the bot stops asking.
func (p *person) finish(done string) {
	e := p.e
	for range 20 {
		if strings.Contains(texts(p.posts), done) {
			return
		}
		if p.modal != nil {
			m := p.modal
			p.act("submit")
			resp, posts := e.submit(p.user, m.meta, p.value()...)
			p.posts, p.modal = posts, nil
			switch resp["response_action"] {
			case "update":
				raw, _ := json.Marshal(resp["view"])
				p.modal = parseModal(e.t, raw)
			case "errors":
				e.t.Fatalf("submission refused: %v (trail %v)", resp, p.trail)
			}
			continue
		}
		p.click()
	}
	e.t.Fatalf("never reached %q: %v", done, p.trail)
}

// click uses the best button of the last messages: the authenticator, then
// the other factors, then an "Enter …" button that opens a modal.
func (p *person) click() {
	e := p.e
	bs := buttons(p.posts)
	for _, want := range []string{"factor.totp", "factor.sms", "factor.email", "factor.voice"} {
		for _, b := range bs {
			if b.Label == e.msg(want) && strings.HasPrefix(b.ActionID, actionChoice) {
				n := e.f.viewCount()
				p.act("click:" + want)
				p.posts = e.click(p.user, b)
				p.opened(n)
				return
			}
		}
	}
	for _, b := range bs {
		if b.ActionID == actionOpen {
			p.act("open:" + b.Label)
			meta, n := e.openModal(p.user, b)
			p.modal = &shownModal{meta: meta, inputs: n}
			return
		}
	}
	e.t.Fatalf("nothing to do after %v: %q", p.trail, texts(p.posts))
}

func homeActionPayload(user, trigger string, b button) []byte {
	out, _ := json.Marshal(map[string]any{"type": "block_actions", "team": map[string]any{"id": testTeam},
		"user": map[string]any{"id": user}, "trigger_id": trigger,
		"container": map[string]any{"type": "view", "view_id": "VH"},
		"view":      map[string]any{"id": "VH", "type": "home"},
		"actions": []map[string]any{{"type": "button", "action_id": b.ActionID, "block_id": b.BlockID,
			"value": b.Value, "action_ts": "1.3", "text": map[string]any{"type": "plain_text", "text": b.Label}}}})
	return out
}

// TestActionCounts counts what a person with an authenticator app does on
// Slack: a reset is at most 4 actions (start, authenticator code, second
// factor's code, the password form) and an unlock at most 2 (start, code),
// started by the slash command or the App Home button. The identity is
// mapped (confirmed profile email), and the factors required are the
// configured ones: only the actions go down.
func TestActionCounts(t *testing.T) {
	emails := map[string]string{"U1": "alice.martin@demo.example", "U2": "chiara.rossi@demo.example"}
	for _, lang := range []string{"en", "es", "fr", "de", "pt-BR"} {
		for _, tc := range []struct {
			name, flow, user, login, done string
			home                          bool
			max                           int
		}{
			{"reset by command", "reset", "U1", "amartin", "reset.done", false, 4},
			{"reset from home", "reset", "U1", "amartin", "reset.done", true, 4},
			{"unlock by command", "unlock", "U2", "crossi", "unlock.done", false, 2},
			{"unlock from home", "unlock", "U2", "crossi", "unlock.done", true, 2},
		} {
			t.Run(lang+"/"+tc.name, func(t *testing.T) {
				e := newEnv(t, false)
				e.lang = lang
				e.f.setUser(tc.user, fakeUser{Email: emails[tc.user], Locale: lang})
				p := &person{e: e, user: tc.user, seed: e.enrollApp(tc.login), password: "Correct-Horse-Battery-Slack-9",
					maxActions: 12}
				p.start(tc.flow, tc.home)
				p.finish(e.msgBefore(tc.done, "ref"))
				t.Logf("slack %s %s: %d actions: %v", lang, tc.name, p.actions, p.trail)
				if p.actions > tc.max {
					t.Errorf("slack %s %s took %d actions, want at most %d: %v", lang, tc.name, p.actions, tc.max, p.trail)
				}
				e.assertNoLeak()
			})
		}
	}
}

// TestModalChain: a submission whose next prompt is masked input replaces
// the modal (response_action update) with that prompt's text and inputs —
// the new password and its confirmation; a policy refusal is shown inside
// that modal, which stays open for the retry; nothing secret is posted.
func TestModalChain(t *testing.T) {
	e := newEnv(t, false)
	p := &person{e: e, user: "U1", seed: e.enrollApp("amartin"), password: "Correct-Horse-Battery-Slack-9", maxActions: 12}
	p.start("reset", false)
	for p.modal == nil || p.modal.inputs != 2 {
		if p.modal != nil {
			p.act("submit")
			resp, posts := e.submit(p.user, p.modal.meta, p.value()...)
			p.posts, p.modal = posts, nil
			if resp["response_action"] == "update" {
				raw, _ := json.Marshal(resp["view"])
				p.modal = parseModal(t, raw)
			}
			continue
		}
		p.click()
	}
	prompt := e.a.Messages.Text("en", "password.prompt", false, map[string]string{"min": "15"})
	if !strings.Contains(p.modal.text, jsonText(prompt)) || p.trail[len(p.trail)-1] != "submit" {
		t.Fatalf("the password form did not replace the code modal: %v\n%s", p.trail, p.modal.text)
	}
	short := "Sh0rt-pw"
	e.secrets = append(e.secrets, short, p.password)
	resp, posts := e.submit(p.user, p.modal.meta, short, short)
	errs, _ := resp["errors"].(map[string]any)
	if resp["response_action"] != "errors" || errs[blockInput] == "" || len(posts) != 0 {
		t.Fatalf("refusal not shown in the modal: %v, %d posts", resp, len(posts))
	}
	resp, posts = e.submit(p.user, p.modal.meta, p.password, p.password)
	if resp["response_action"] != "clear" || !strings.Contains(texts(posts), "your password has been changed") {
		t.Fatalf("retry in the same modal: %v %q", resp, texts(posts))
	}
	e.assertNoLeak()
}

// TestHomeTab: opening the App Home publishes the three buttons in the
// person's language; a guest sees only the refusal.
func TestHomeTab(t *testing.T) {
	e := newEnv(t, false)
	e.step(func() { e.tr.event(t, homeEvent(e.next("Ev"), "U3")) })
	e.step(func() { e.tr.event(t, homeEvent(e.next("Ev"), "U9")) })
	if e.homeCount() != 2 {
		t.Fatalf("%d views published", e.homeCount())
	}
	home, guest := string(e.f.published[0]), string(e.f.published[1])
	for _, id := range []string{"flow.reset", "flow.unlock", "flow.enroll"} {
		if !strings.Contains(home, jsonText(e.a.Messages.Text("es", id, false, nil))) {
			t.Errorf("home tab lacks %s: %s", id, home)
		}
	}
	if !strings.Contains(home, `"type":"home"`) || strings.Contains(guest, actionHome) ||
		!strings.Contains(guest, jsonText(e.msg("chat.not_allowed"))) {
		t.Fatalf("home %s\nguest %s", home, guest)
	}
	// An unknown flow name in a forged button starts nothing.
	before := e.spy.turns.Load()
	e.tr.interact(t, homeActionPayload("U1", e.next("trg-"), button{ActionID: actionHome + "x", BlockID: "home", Value: "admin"}))
	if e.spy.turns.Load() != before {
		t.Fatal("a forged home button started a turn")
	}
}

// TestSideChoices: choices next to a code field ("use a text message
// instead") are buttons beside the DM's "Enter code" button and inside the
// modal; a click inside the modal updates that modal with the next masked
// prompt.
func TestSideChoices(t *testing.T) {
	e := newEnv(t, false)
	key := userKey(testTeam, "U1")
	side := []engine.Choice{{ID: "sms", MessageID: "factor.sms"}, {ID: "other_account", MessageID: "factor.email"}}
	r := engine.Reply{Step: "verify@x", Outputs: []engine.Output{{MessageID: "totp.prompt",
		Expect: engine.Expect{Kind: engine.ExpectDigits, MinDigits: 6, MaxDigits: 8, Choices: side}}}}
	blocks, _ := e.b.render("en", key, r.Step, r.Outputs)
	raw, _ := json.Marshal(blocks)
	var dm []map[string]any
	_ = json.Unmarshal(raw, &dm)
	got := buttons([]posted{{Blocks: dm}})
	if len(got) != 3 || got[0].ActionID != actionOpen || got[1].Label != e.msg("factor.sms") {
		t.Fatalf("DM buttons %+v", got)
	}
	v, ok := e.b.nextModal(r, "en", key)
	mv, _ := json.Marshal(v)
	if !ok || !strings.Contains(string(mv), `"block_id":"side"`) || !strings.Contains(string(mv), jsonText(e.msg("factor.sms"))) {
		t.Fatalf("modal without the side choices: %s", mv)
	}

	// A click inside a modal: the factor menu's SMS choice, sent from the
	// modal's side block, updates the modal with the code prompt.
	posts := e.dm("U1", "reset")
	b := e.find(posts, e.msg("factor.sms"))
	var p map[string]any
	_ = json.Unmarshal(actionPayload("U1", e.next("trg-"), b), &p)
	delete(p, "channel")
	delete(p, "message")
	p["container"] = map[string]any{"type": "view", "view_id": "VM"}
	p["view"] = map[string]any{"id": "VM", "type": "modal", "callback_id": callbackModal}
	payload, _ := json.Marshal(p)
	e.step(func() { e.tr.interact(t, payload) })
	e.f.mu.Lock()
	n := len(e.f.updated)
	var last string
	if n > 0 {
		last = string(e.f.updated[n-1])
	}
	e.f.mu.Unlock()
	code := e.a.Messages.Text("en", "code.prompt.sms", false, nil)
	if n != 1 || !strings.Contains(last, jsonText(code)) || !strings.Contains(last, `"type":"input"`) {
		t.Fatalf("modal not updated with the code prompt (%d updates): %s", n, last)
	}
}
