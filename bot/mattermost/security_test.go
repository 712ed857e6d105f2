package mattermost

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/token"
)

// TestForgedCallbacks: a button or dialog callback that does not carry a
// token of ours, issued to this person in this DM for this purpose, is
// refused before anything else in it is used: nothing runs, no dialog
// opens, nothing is posted.
func TestForgedCallbacks(t *testing.T) {
	e := newEnv(t)
	posts, _ := e.dm(uAlice, "reset my password")
	p, sms := e.find(posts, e.msg("factor.sms"))
	_, open := e.find(posts, e.msg(msgButtonCode))
	dm := e.f.dmID(uAlice)
	tok := sms.Integration.Context[ctxToken].(string)
	other, _ := token.New([]byte("another-key-of-at-least-32-bytes-long!!"), nil)
	c, _ := e.b.tokens.Verify(tok, purposeChoice, userKey(uAlice, dm))
	foreign := other.Sign(c)
	altered := tok[:len(tok)-2] + "AA"
	if altered == tok {
		altered = tok[:len(tok)-2] + "BB"
	}
	click := func(user, channel string, ctx map[string]any) []byte {
		b, _ := json.Marshal(map[string]any{"user_id": user, "channel_id": channel, "post_id": p.ID,
			"trigger_id": "t" + strings.Repeat("z", 25), "type": "button", "context": ctx})
		return b
	}
	submit := func(state string) []byte {
		b, _ := json.Marshal(map[string]any{"type": "dialog_submission", "callback_id": callbackID, "state": state,
			"user_id": uAlice, "channel_id": dm, "submission": map[string]string{fieldCode: "123456"}})
		return b
	}
	for _, tc := range []struct {
		name, path string
		body       []byte
		want       int
	}{
		{"no token", PathAction, click(uAlice, dm, map[string]any{ctxKind: kindClick}), http.StatusForbidden},
		{"altered token", PathAction, click(uAlice, dm, map[string]any{ctxKind: kindClick, ctxToken: altered}), http.StatusForbidden},
		{"signed under another key", PathAction, click(uAlice, dm, map[string]any{ctxKind: kindClick, ctxToken: foreign}), http.StatusForbidden},
		{"another user's button", PathAction, click(uChiara, dm, sms.Integration.Context), http.StatusForbidden},
		{"another channel", PathAction, click(uAlice, "d"+strings.Repeat("q", 25), sms.Integration.Context), http.StatusForbidden},
		{"choice token as open button", PathAction, click(uAlice, dm, map[string]any{ctxKind: kindOpen, ctxToken: tok}), http.StatusForbidden},
		{"not an ID", PathAction, click("../../users/me", dm, sms.Integration.Context), http.StatusBadRequest},
		{"malformed", PathAction, []byte(`{"user_id":`), http.StatusBadRequest},
		{"too large", PathAction, bytes.Repeat([]byte(" "), maxCallback+1), http.StatusRequestEntityTooLarge},
		{"dialog without state", PathDialog, submit(""), http.StatusForbidden},
		{"open token as dialog state", PathDialog, submit(open.Integration.Context[ctxToken].(string)), http.StatusForbidden},
		{"choice token as dialog state", PathDialog, submit(tok), http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			turns, n, dialogs := e.spy.turns.Load(), e.f.postCount(), e.f.dialogCount()
			audited := strings.Count(e.audit.String(), `"event":"authn.rejected"`)
			status, _ := e.f.post(e.cb.URL+tc.path, tc.body)
			if status != tc.want {
				t.Fatalf("status %d, want %d", status, tc.want)
			}
			if e.spy.turns.Load() != turns || e.f.postCount() != n || e.f.dialogCount() != dialogs {
				t.Fatal("a refused callback acted")
			}
			if tc.want == http.StatusForbidden && strings.Count(e.audit.String(), `"event":"authn.rejected"`) != audited+1 {
				t.Fatal("a refused callback was not audited")
			}
		})
	}
	// The genuine click still works afterwards.
	if e.click(uAlice, posts, e.msg("factor.sms")); e.f.dialogCount() == 0 {
		t.Fatal("the genuine click did not open the code dialog")
	}
}

// TestExpiredButton: a button older than its token's lifetime is refused
// privately (ephemeral text) and does nothing.
func TestExpiredButton(t *testing.T) {
	e := newEnv(t)
	posts, _ := e.dm(uAlice, "reset my password")
	e.advance(DefaultTokenTTL + time.Minute)
	p, a := e.find(posts, e.msg("factor.sms"))
	turns := e.spy.turns.Load()
	_, status, resp := e.f.click(uAlice, p.ID, a.ID)
	if status != 200 || resp["ephemeral_text"] != e.msg(msgRefused) || e.spy.turns.Load() != turns {
		t.Fatalf("expired click: status %d, response %v", status, resp)
	}
}

// TestReplayedCallbacks: the same click or submission delivered again, or a
// click's token sent again with a new trigger, never acts twice; a button
// of an earlier step does nothing harmful (no code sent, the conversation
// goes on where it is).
func TestReplayedCallbacks(t *testing.T) {
	e := newEnv(t)
	posts, _ := e.dm(uAlice, "reset my password")
	first := posts
	p, sms := e.find(posts, e.msg("factor.sms"))
	_, email := e.find(first, e.msg("factor.email"))
	var body []byte
	e.step(1, func() { body, _, _ = e.f.click(uAlice, p.ID, sms.ID) })
	sent, turns, dialogs := len(e.a.Outbox.Messages()), e.spy.turns.Load(), e.f.dialogCount()

	// The same request again, then the same token with a new trigger.
	if status, resp := e.f.post(e.cb.URL+PathAction, body); status != 200 || len(resp) != 0 {
		t.Fatalf("replayed click: %d %v", status, resp)
	}
	if _, status, _ := e.f.clickAction(uAlice, p.ChannelID, p.ID, sms); status != 200 {
		t.Fatalf("re-clicked token: status %d", status)
	}
	if e.spy.turns.Load() != turns || len(e.a.Outbox.Messages()) != sent || e.f.dialogCount() != dialogs {
		t.Fatal("a replayed click acted")
	}

	// A right code, its submission replayed.
	n := dialogs - 1
	code := e.lastCode()
	var reqBody []byte
	e.step(1, func() { reqBody, _, _ = e.f.submit(n, map[string]string{fieldCode: code}) })
	if e.spy.turns.Load() != turns+1 {
		t.Fatal("the submission did not run once")
	}
	turns, sent = e.spy.turns.Load(), len(e.a.Outbox.Messages())
	if status, resp := e.f.post(e.cb.URL+PathDialog, reqBody); status != 200 || len(resp) != 0 {
		t.Fatalf("replayed submission: %d %v", status, resp)
	}
	if e.spy.turns.Load() != turns {
		t.Fatal("a replayed submission ran again")
	}

	// A button of the first step (its post no longer shows it): nothing
	// is sent, and the email code asked now still works.
	e.step(1, func() { e.f.clickAction(uAlice, p.ChannelID, p.ID, email) })
	if len(e.a.Outbox.Messages()) != sent {
		t.Fatal("a stale button sent a code")
	}
	last := e.f.botPosts(0)
	var prompt []*post
	for _, q := range last {
		if strings.Contains(plain(q.Message), e.msg("verify.ok_more")) {
			prompt = []*post{q}
		}
	}
	n = e.openDialog(uAlice, prompt, e.msg(msgButtonCode))
	_, posts = e.submit(n, map[string]string{fieldCode: e.lastCode()})
	want := e.a.Messages.Text("en", "password.prompt", false, map[string]string{"min": "15"})
	if !strings.Contains(texts(posts), want) {
		t.Fatalf("after a stale click the flow did not go on: %q", texts(posts))
	}
	e.assertNoLeak()
}

// TestIgnoredEvents: only a person's post in their DM with the bot runs a
// turn: not the bot's own posts, system posts, webhook or bot posts,
// channel posts, nor a DM between two other people.
func TestIgnoredEvents(t *testing.T) {
	e := newEnv(t)
	dm := e.f.dmID(uAlice)
	ev := func(name, chType string, p post) map[string]any {
		raw, _ := json.Marshal(p)
		return map[string]any{"event": "posted", "seq": 9, "data": map[string]any{"channel_type": chType,
			"channel_name": name, "post": string(raw)}}
	}
	mine := dmName(e.f.botID, uAlice)
	for _, x := range []map[string]any{
		ev(mine, "D", post{ID: "p1", ChannelID: dm, UserID: e.f.botID, Message: "reset"}),
		ev(mine, "D", post{ID: "p2", ChannelID: dm, UserID: uAlice, Message: "reset", Type: "system_join_channel"}),
		ev(mine, "D", post{ID: "p3", ChannelID: dm, UserID: uAlice, Message: "reset", Props: map[string]any{"from_bot": "true"}}),
		ev(mine, "D", post{ID: "p4", ChannelID: dm, UserID: uAlice, Message: "reset", Props: map[string]any{"from_webhook": "true"}}),
		ev("town-square", "O", post{ID: "p5", ChannelID: dm, UserID: uAlice, Message: "reset"}),
		ev(dmName(uChiara, uAlice), "D", post{ID: "p6", ChannelID: dm, UserID: uAlice, Message: "reset"}),
		{"event": "posted", "data": map[string]any{"channel_type": "D", "channel_name": mine, "post": "{not json"}},
		{"event": "typing", "data": map[string]any{}},
	} {
		e.f.sendEvent(x)
	}
	e.dm(uAlice, "reset my password")
	if got := e.spy.turns.Load(); got != 1 {
		t.Fatalf("%d turns ran, want only the person's DM", got)
	}
}

// TestNotAllowed: a guest and a member of no allowed team get the same
// refusal, and the engine never runs for them.
func TestNotAllowed(t *testing.T) {
	team := "t" + strings.Repeat("a", 25)
	e := newEnv(t, func(o *Options) { o.Config.TeamIDs = []string{team} })
	e.f.mu.Lock()
	e.f.teams[uAlice] = []string{team}
	e.f.teams[uGuest] = []string{team}
	e.f.teams[uChiara] = []string{"t" + strings.Repeat("b", 25)}
	e.f.mu.Unlock()
	guest, _ := e.dm(uGuest, "reset my password")
	outside, _ := e.dm(uChiara, "reset my password")
	if texts(guest) != e.msg(msgNotAllowed) || texts(outside) != texts(guest) || e.spy.turns.Load() != 0 {
		t.Fatalf("guest %q, outside the teams %q, turns %d", texts(guest), texts(outside), e.spy.turns.Load())
	}
	if posts, _ := e.dm(uAlice, "reset my password"); !strings.Contains(texts(posts), e.msg("totp.prompt")) {
		t.Fatalf("a member of an allowed team was not served: %q", texts(posts))
	}
}

// TestIdentityMapping: only a verified email naming one account skips the
// login question; an unverified email, an unknown one, and the mapping
// turned off get exactly the replies of a person with no email.
func TestIdentityMapping(t *testing.T) {
	first := func(t *testing.T, u map[string]any, mutate ...func(*Options)) string {
		e := newEnv(t, mutate...)
		u["locale"], u["roles"] = "en", "system_user"
		e.f.setUser(uNobody, u)
		posts, _ := e.dm(uNobody, "reset my password")
		return texts(posts)
	}
	e := newEnv(t)
	mapped := first(t, map[string]any{"email": "alice.martin@demo.example", "email_verified": true})
	if strings.Contains(mapped, e.msg("identify.prompt")) {
		t.Fatalf("a verified, mapped email was asked who it is: %q", mapped)
	}
	baseline := first(t, map[string]any{})
	if !strings.Contains(baseline, e.msg("identify.prompt")) {
		t.Fatalf("no login question without an email: %q", baseline)
	}
	off := func(o *Options) { o.Config.IdentityMapping.From = "off" }
	for name, got := range map[string]string{
		"unverified email": first(t, map[string]any{"email": "alice.martin@demo.example"}),
		"unknown email":    first(t, map[string]any{"email": "nobody@demo.example", "email_verified": true}),
		"mapping off":      first(t, map[string]any{"email": "alice.martin@demo.example", "email_verified": true}, off),
	} {
		if got != baseline {
			t.Errorf("%s: replies differ from an unknown person's:\n%q\nvs\n%q", name, got, baseline)
		}
	}
}
