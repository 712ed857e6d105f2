package teams

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

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

// TestBusyTurnAsksForRedelivery: a message whose turn cannot commit (its
// conversation held by another turn, as during a failover or a store
// outage) is answered 503 with Retry-After and shows nothing, instead of an
// acknowledged activity answered with the catalogued error (the input
// dropped). The Bot Framework's redelivery of the same activity then runs
// once and is answered 200, with one reply.
func TestBusyTurnAsksForRedelivery(t *testing.T) {
	r := newRig(t)
	turns, ok := r.a.Store.(store.Turns)
	if !ok {
		t.Fatalf("store %T runs no turns", r.a.Store)
	}
	held := store.TurnKeys{Session: engine.SessionKey(Channel, "aad-amartin"), Lock: "lock:{" + Channel + ":aad-amartin}", Owner: "other"}
	if a, err := turns.AcquireTurn(t.Context(), held, time.Minute); err != nil || a.State != store.TurnAcquired {
		t.Fatalf("hold the conversation: %v %v", a.State, err)
	}
	act := r.activity("amartin", "message")
	act["text"] = "reset"
	code, retryAfter := r.postStatus(act)
	if code != http.StatusServiceUnavailable || retryAfter == "" {
		t.Fatalf("busy turn: HTTP %d, Retry-After %q; want 503 with Retry-After", code, retryAfter)
	}
	r.jobs++
	r.idle()
	if w := r.writes(); len(w) != 0 {
		t.Fatalf("a turn that did not commit showed %d messages", len(w))
	}
	if err := turns.CommitTurn(t.Context(), held, store.Commit{Op: store.SessionKeep}); err != nil {
		t.Fatal(err)
	}
	if code, _ := r.postStatus(act); code != http.StatusOK {
		t.Fatalf("redelivery: HTTP %d, want 200", code)
	}
	r.jobs++
	r.idle()
	if w := r.writes(); len(w) != 1 || texts(cardOf(t, []byte(w[0].Body))) == "" {
		t.Fatalf("redelivery: %d messages, want the reply once", len(w))
	}
	// A third copy (the Bot Framework retrying after a lost 200) shows
	// nothing again.
	if code, _ := r.postStatus(act); code != http.StatusOK {
		t.Fatalf("repeated activity: HTTP %d", code)
	}
	r.jobs++
	r.idle()
	if n := len(r.writes()); n != 1 {
		t.Fatalf("repeated activity: %d messages, want 1", n)
	}
}

// postStatus sends a signed activity and returns the status and Retry-After.
func (r *rig) postStatus(act map[string]any) (int, string) {
	r.t.Helper()
	body, err := json.Marshal(act)
	if err != nil {
		r.t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, r.http.URL+"/api/messages", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", r.bearer())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After")
}
