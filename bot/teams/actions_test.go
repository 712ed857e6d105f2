package teams

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/resetbot/resetbot/bot/chatid"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/crypt"
	rbtotp "github.com/resetbot/resetbot/core/identity/totp"
	"github.com/resetbot/resetbot/core/secret"
)

// enrollApp gives the demo account login an authenticator app, with the
// app's own keys (the enrollment flow has its own tests), and returns its
// seed. The confirmation uses the previous 30-second step, so the flow's
// first code is not a replay.
func (r *rig) enrollApp(login string) string {
	r.t.Helper()
	primary, keys, err := r.a.Config.Keys.ParseEncryption()
	if err != nil {
		r.t.Fatal(err)
	}
	kr, err := crypt.NewKeyring(primary, keys)
	if err != nil {
		r.t.Fatal(err)
	}
	v := rbtotp.New(r.a.Store, kr, rbtotp.Options{Issuer: "resetbot"})
	ctx, key := context.Background(), "demo:uid="+login+",ou=people,dc=demo,dc=example"
	en, err := v.Begin(ctx, key, login)
	if err != nil {
		r.t.Fatal(err)
	}
	code, _ := totp.GenerateCode(en.Secret.Reveal(), time.Now().Add(-30*time.Second))
	if _, err := v.Confirm(ctx, key, secret.New(code)); err != nil {
		r.t.Fatal(err)
	}
	r.known = append(r.known, en.Secret.Reveal())
	return en.Secret.Reveal()
}

// member makes user a member the connector knows, with email.
func (r *rig) member(user, email string) {
	r.fake.members["29:"+user] = map[string]string{"id": "29:" + user, "aadObjectId": "aad-" + user,
		"email": email, "userPrincipalName": email, "tenantId": testTenant}
}

// teamsPerson plays someone who does the least the bot asks, counting each
// card submit (every click and every form is one).
type teamsPerson struct {
	r                    *rig
	user, seed, password string
	actions              int
	trail                []string
	card                 map[string]any
	id                   string
	lastAppCode          string
	usedOutbox           int
}

func (p *teamsPerson) submit(what string, data map[string]any) {
	p.actions++
	p.trail = append(p.trail, what)
	if p.actions > 12 {
		p.r.t.Fatalf("more than 12 actions: %v\n%s", p.trail, texts(p.card))
	}
	p.r.submit(p.user, p.id, data)
	p.card, p.id = p.r.shown()
}

// code is the code the card asks for: one sent since the last one used,
// else the authenticator app's.
func (p *teamsPerson) code() string {
	if n := len(p.r.a.Outbox.Messages()); n > p.usedOutbox {
		p.usedOutbox = n
		return p.r.code()
	}
	at := time.Now()
	c, _ := totp.GenerateCode(p.seed, at)
	if c == p.lastAppCode {
		c, _ = totp.GenerateCode(p.seed, at.Add(30*time.Second))
	}
	p.lastAppCode = c
	p.r.known = append(p.r.known, c)
	return c
}

// run clicks flow on the welcome card, then answers until done shows.
func (p *teamsPerson) run(flow, done string) {
	r := p.r
	up := r.activity(p.user, "conversationUpdate")
	up["membersAdded"] = []map[string]string{{"id": "28:" + testAppID}}
	r.send(up) // installing the app is not an action of the flow
	p.card, p.id = r.shown()
	for _, f := range []string{"reset", "unlock", "enroll"} {
		if !p.has("c:flow:" + f) {
			r.t.Fatalf("the welcome card has no %s button:\n%s", f, texts(p.card))
		}
	}
	p.submit("welcome:"+flow, map[string]any{tokenKey: r.button(p.card, p.user, "c:flow:"+flow)})
	for range 20 {
		if strings.Contains(texts(p.card), done) {
			return
		}
		switch in := inputs(p.card); {
		case slices.Equal(in, []string{fieldPass, fieldPass2}):
			r.known = append(r.known, p.password)
			p.submit("password form", map[string]any{tokenKey: r.button(p.card, p.user, valueSecret),
				fieldPass: p.password, fieldPass2: p.password})
		case slices.Equal(in, []string{fieldText}):
			p.submit("code", map[string]any{tokenKey: r.button(p.card, p.user, valueText), fieldText: p.code()})
		default:
			p.pick()
		}
	}
	r.t.Fatalf("never reached %q: %v\n%s", done, p.trail, texts(p.card))
}

// pick clicks the authenticator, else another factor.
func (p *teamsPerson) pick() {
	for _, c := range []string{"totp", "sms", "email", "voice"} {
		if p.has("c:" + c) {
			p.submit("click:"+c, map[string]any{tokenKey: p.r.button(p.card, p.user, "c:"+c)})
			return
		}
	}
	p.r.t.Fatalf("nothing to do after %v:\n%s", p.trail, texts(p.card))
}

func (p *teamsPerson) has(value string) bool {
	for _, e := range list(p.card["actions"]) {
		m, _ := e.(map[string]any)
		data, _ := m["data"].(map[string]any)
		tok, _ := data[tokenKey].(string)
		if cl, err := p.r.a.Tokens.Verify(tok, tokenPurpose, "aad-"+p.user); err == nil && cl.Value == value {
			return true
		}
	}
	return false
}

// TestActionCounts counts the card submits of a person with an
// authenticator app whose Teams identity maps to their account: a reset is
// at most 4 (the welcome card's button, authenticator code, second factor's
// code, the two-field password card) and an unlock at most 2.
func TestActionCounts(t *testing.T) {
	for _, lang := range []string{"en", "es", "fr", "de", "pt-BR"} {
		for _, tc := range []struct {
			name, flow, user, email, login, done string
			max                                  int
		}{
			{"reset", "reset", "amartin", "alice.martin@demo.example", "amartin", "reset.done", 4},
			{"unlock", "unlock", "crossi", "chiara.rossi@demo.example", "crossi", "unlock.done", 2},
		} {
			t.Run(lang+"/"+tc.name, func(t *testing.T) {
				r := newRig(t)
				r.locale = lang
				r.member(tc.user, tc.email)
				p := &teamsPerson{r: r, user: tc.user, seed: r.enrollApp(tc.login), password: "Velvet-Harbor-Lantern-31"}
				p.run(tc.flow, fixedPart(r.a.Messages.Text(lang, tc.done, false, map[string]string{"ref": "\x00"})))
				t.Logf("teams %s %s: %d actions: %v", lang, tc.name, p.actions, p.trail)
				if p.actions > tc.max {
					t.Errorf("teams %s %s took %d actions, want at most %d: %v", lang, tc.name, p.actions, tc.max, p.trail)
				}
				r.sweep()
			})
		}
	}
}

// fixedPart is the longest part of a catalog text between its variables
// (given as NUL): what a test can look for without knowing them.
func fixedPart(text string) string {
	best := ""
	for _, part := range strings.Split(text, "\x00") {
		if len(part) > len(best) {
			best = part
		}
	}
	return best
}

// TestIdentityMappingSignal: a member whose email names no account, and
// the mapping turned off, get exactly the cards of a person the bot cannot
// map; a mapped member is not asked who they are.
func TestIdentityMappingSignal(t *testing.T) {
	first := func(email string, tweak ...func(*config.Config)) string {
		r := newRig(t, tweak...)
		if email != "" {
			r.member("zed", email)
		}
		r.say("zed", "reset my password")
		card, _ := r.shown()
		return texts(card)
	}
	ask := "What is your username"
	if mapped := first("alice.martin@demo.example"); strings.Contains(mapped, ask) {
		t.Fatalf("a mapped member was asked who they are:\n%s", mapped)
	}
	baseline := first("") // the member lookup fails: no identity at all
	if !strings.Contains(baseline, ask) {
		t.Fatalf("no login question without a mapping:\n%s", baseline)
	}
	off := func(c *config.Config) { teamsOf(c).IdentityMapping.From = chatid.FromOff }
	for name, got := range map[string]string{
		"unknown email": first("nobody@demo.example"),
		"mapping off":   first("alice.martin@demo.example", off),
	} {
		if got != baseline {
			t.Errorf("%s: cards differ from an unmapped person's:\n%s\nvs\n%s", name, got, baseline)
		}
	}
}
