package teams

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/secret"
)

// TestResetConversation runs a full password reset with Action.Submit cards:
// greeting menu → reset → (account picked from the UPN hint) → SMS code →
// email code → password card with a mismatch refusal → done.
func TestResetConversation(t *testing.T) {
	r := newRig(t)
	const pw = "Velvet-Harbor-Lantern-31"
	r.known = append(r.known, pw, "Mismatch-Orchid-Falcon-88")

	up := r.activity("amartin", "conversationUpdate")
	up["membersAdded"] = []map[string]string{{"id": "28:" + testAppID}}
	r.send(up)
	card, id := r.shown()
	if !strings.Contains(texts(card), "I am resetbot") {
		t.Fatalf("greeting:\n%s", texts(card))
	}

	step := func(data map[string]any, want string) {
		t.Helper()
		before := len(r.writes())
		r.submit("amartin", id, data)
		w := r.writes()
		if len(w) != before+1 || w[len(w)-1].Method != http.MethodPut || w[len(w)-1].ID != id {
			t.Fatalf("a submit must update its card in place; writes %+v", w[before:])
		}
		card, id = r.shown()
		if !strings.Contains(texts(card), want) {
			t.Fatalf("want %q in card:\n%s", want, texts(card))
		}
	}
	// The authenticator is asked at once, the other methods beside it.
	step(map[string]any{tokenKey: r.button(card, "amartin", "c:flow:reset")}, "authenticator app")
	step(map[string]any{tokenKey: r.button(card, "amartin", "c:sms")}, "by text message")
	if got := inputs(card); !slices.Equal(got, []string{fieldText}) {
		t.Fatalf("code card inputs %q", got)
	}
	// The email code is sent as soon as the text message's passes.
	step(map[string]any{tokenKey: r.button(card, "amartin", valueText), fieldText: r.code()}, "is on its way to a•••@personal.example")
	step(map[string]any{tokenKey: r.button(card, "amartin", valueText), fieldText: r.code()}, "choose a new password")
	if got := inputs(card); !slices.Equal(got, []string{fieldPass, fieldPass2}) {
		t.Fatalf("password card inputs %q", got)
	}
	for _, e := range list(card["body"]) {
		if m, _ := e.(map[string]any); strings.HasPrefix(fmt.Sprint(m["id"]), "rb_pw") && m["style"] != "password" {
			t.Errorf("password input %v is not masked", m["id"])
		}
	}
	pwTok := r.button(card, "amartin", valueSecret)
	step(map[string]any{tokenKey: pwTok, fieldPass: pw, fieldPass2: "Mismatch-Orchid-Falcon-88"}, "do not match")
	if !strings.Contains(string(mustJSON(t, card)), `"color":"attention"`) {
		t.Error("the refusal is not shown as an error in the refreshed card")
	}
	step(map[string]any{tokenKey: r.button(card, "amartin", valueSecret), fieldPass: pw, fieldPass2: pw}, "your password has been changed")
	// The final card holds only the optional rating buttons.
	if len(inputs(card)) != 0 || len(list(card["actions"])) != 2 {
		t.Errorf("the final card should hold the two rating buttons only: %v", card)
	}
	step(map[string]any{tokenKey: r.button(card, "amartin", valueChoice+engine.ChoiceRateUp)}, "Thank you")
	if len(inputs(card)) != 0 || card["actions"] != nil {
		t.Errorf("the card after the rating still has inputs or buttons: %v", card)
	}
	if b, ok := r.a.Directory.(interface {
		Bind(ctx context.Context, login string, pw secret.String) bool
	}); ok && !b.Bind(context.Background(), "amartin", secret.New(pw)) {
		t.Error("the directory does not accept the new password")
	}
	// The stale password card's token replayed after the end acts on nothing.
	before := len(r.writes())
	r.submit("amartin", id, map[string]any{tokenKey: pwTok, fieldPass: "Another-Try-Cobalt-55", fieldPass2: "Another-Try-Cobalt-55"})
	if w := r.writes(); len(w) > before && strings.Contains(w[len(w)-1].Body, "password has been changed") {
		t.Error("a replayed password submit changed the password again")
	}
	r.sweep()
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMentionInChannelMovesToPersonalChat: the channel gets one short
// message; the conversation starts in a new personal chat.
func TestMentionInChannelMovesToPersonalChat(t *testing.T) {
	r := newRig(t)
	act := r.activity("amartin", "message")
	act["conversation"] = map[string]any{"id": "19:team-channel@thread.tacv2", "conversationType": "channel", "isGroup": true, "tenantId": testTenant}
	act["text"] = "<at>resetbot</at> reset"
	act["entities"] = []map[string]any{{"type": "mention", "text": "<at>resetbot</at>", "mentioned": map[string]string{"id": "28:" + testAppID, "name": "resetbot"}}}
	r.send(act)
	var channel, personal []captured
	for _, c := range r.writes() {
		switch {
		case strings.Contains(c.Path, "team-channel"):
			channel = append(channel, c)
		case strings.Contains(c.Path, "a:personal-"):
			personal = append(personal, c)
		}
	}
	if len(channel) != 1 || !strings.Contains(channel[0].Body, "private chat") || strings.Contains(channel[0].Body, "attachments") {
		t.Fatalf("channel got %+v", channel)
	}
	if len(personal) != 1 || !strings.Contains(texts(cardOf(t, []byte(personal[0].Body))), "authenticator app") {
		t.Fatalf("personal chat got %+v", personal)
	}
	// Unmentioned channel chatter is ignored.
	n := len(r.writes())
	quiet := r.activity("amartin", "message")
	quiet["conversation"] = act["conversation"]
	quiet["text"] = "lunch?"
	if code, _ := r.post(quiet, r.bearer()); code != http.StatusOK {
		t.Fatalf("unmentioned message: HTTP %d", code)
	}
	r.idle()
	if len(r.writes()) != n {
		t.Error("the bot answered a message that did not mention it")
	}
}
