package bottest

import (
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/store"
)

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
