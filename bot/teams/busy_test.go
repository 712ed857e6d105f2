package teams

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/store"
)

// TestFullQueueAnswers503First: with the worker queue full, an activity is
// refused with 503 before its token is checked or its body parsed.
func TestFullQueueAnswers503First(t *testing.T) {
	r := newRig(t)
	release, started := make(chan struct{}), make(chan struct{})
	block := func(context.Context) { started <- struct{}{}; <-release }
	// Occupy both workers, then fill the queue behind them.
	for range 2 {
		if err := r.pool.Submit(block); err != nil {
			t.Fatal(err)
		}
		<-started
	}
	for r.pool.Submit(func(context.Context) { <-release }) == nil {
	}
	if !r.pool.Full() {
		t.Fatal("the queue is not full")
	}
	code, _ := r.post([]byte("not even json"), "")
	close(release)
	if code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", code)
	}
	if n := len(r.rejections()); n != 0 {
		t.Fatalf("%d authentication rejections recorded for a request refused as busy", n)
	}
}

// TestBusyInvokeKeepsTheCard: a card action whose turn cannot run (its
// conversation held by another turn) is answered with a message, which
// leaves the clicked card in place, not with a busy card that replaces it
// and drops the click; once the conversation is free the same click runs.
func TestBusyInvokeKeepsTheCard(t *testing.T) {
	r := newRig(t, func(c *config.Config) { teamsOf(c).Actions = ActionsExecute })
	r.say("amartin", "reset")
	card, id := r.shown()
	turns := r.a.Store.(store.Turns)
	held := store.TurnKeys{Session: engine.SessionKey(Channel, "aad-amartin"), Lock: "lock:{" + Channel + ":aad-amartin}", Owner: "other"}
	if a, err := turns.AcquireTurn(t.Context(), held, time.Minute); err != nil || a.State != store.TurnAcquired {
		t.Fatalf("hold the conversation: %v %v", a.State, err)
	}
	click := func() (int, string) {
		act := r.activity("amartin", "invoke")
		act["name"] = invokeCardAction
		act["replyToId"] = id
		act["value"] = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": executeVerb,
			"data": map[string]any{tokenKey: r.button(card, "amartin", "c:email")}}}
		code, body := r.post(act, r.bearer())
		r.jobs++
		r.idle()
		var res struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(body, &res); err != nil {
			t.Fatalf("HTTP %d %s", code, body)
		}
		return code, res.Type
	}
	writes := len(r.writes())
	if code, typ := click(); code != http.StatusOK || typ != invokeTypeMessage {
		t.Fatalf("busy click: HTTP %d %q, want 200 with a message (the card kept)", code, typ)
	}
	if n := len(r.writes()); n != writes {
		t.Fatalf("a click that did not run changed %d messages", n-writes)
	}
	if err := turns.CommitTurn(t.Context(), held, store.Commit{Op: store.SessionKeep}); err != nil {
		t.Fatal(err)
	}
	if code, typ := click(); code != http.StatusOK || typ != invokeTypeCard {
		t.Fatalf("click again: HTTP %d %q, want the next card", code, typ)
	}
}
