package bottest

import (
	"strings"
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

// Dump lists a store's keys and values for the sweep, when the store can
// list them (the memory store can); otherwise it fails t.
func Dump(t testing.TB, st store.Store) []string {
	t.Helper()
	d, ok := st.(interface{ Dump() map[string][]byte })
	if !ok {
		t.Fatalf("store %T cannot be listed for the sweep", st)
	}
	var out []string
	for k, v := range d.Dump() {
		out = append(out, k+"="+string(v))
	}
	return out
}

// Count counts the audit records named name in a JSON-lines audit trail.
// Drivers whose deliveries leave through a queue count "code.sent" records
// (written when a code is handed to a notifier) instead of waiting on the
// provider.
func Count(auditJSON, name string) int {
	return strings.Count(auditJSON, `"event":"`+name+`"`)
}
