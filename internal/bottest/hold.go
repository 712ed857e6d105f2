package bottest

import (
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/store"
)

// HoldSession takes the conversation lease of (channel, user) in st as a
// turn on another replica would, so the person's turns find the session
// busy; release gives it back. Drivers implement Holder with it.
func HoldSession(t testing.TB, st store.Store, channel, user string) (release func()) {
	t.Helper()
	turns, ok := st.(store.Turns)
	if !ok {
		t.Fatalf("store %T runs no turns", st)
	}
	k := store.TurnKeys{Session: engine.SessionKey(channel, user),
		Lock: "lock:{" + channel + ":" + user + "}", Owner: "bottest-other-replica"}
	if a, err := turns.AcquireTurn(t.Context(), k, time.Hour); err != nil || a.State != store.TurnAcquired {
		t.Fatalf("hold the conversation: %v %v", a.State, err)
	}
	return func() {
		t.Helper()
		if err := turns.CommitTurn(t.Context(), k, store.Commit{Op: store.SessionKeep}); err != nil {
			t.Fatalf("release the conversation: %v", err)
		}
	}
}
