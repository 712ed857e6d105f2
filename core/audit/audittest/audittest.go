// Package audittest holds test helpers for code that writes audit events.
package audittest

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/audit"
)

// AssertNoSecrets fails the test if any raw secret value appears in any
// recorded event, in any field, as encoded for the audit log. Empty secrets
// are ignored. Pass the revealed values the test used (password, codes,
// answers, seeds, keys).
func AssertNoSecrets(t testing.TB, rec *audit.Recorder, secrets ...string) {
	t.Helper()
	for i, e := range rec.Events() {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("event %d (%s) does not encode: %v", i, e.Name, err)
		}
		line := string(b)
		for _, s := range secrets {
			if s == "" {
				continue
			}
			// Check both the encoded line and the raw fields, so escaping
			// (for example of '<' or '&') cannot hide a match.
			if strings.Contains(line, s) || rawContains(e, s) {
				t.Errorf("secret %q leaked into audit event %d: %s", s, i, line)
			}
		}
	}
}

func rawContains(e audit.Event, s string) bool {
	for _, v := range []string{e.Name, e.Ref, e.Session, e.Channel, e.Actor, e.Flow,
		e.From, e.To, e.Event, e.Factor, e.Outcome, e.Reason, e.Destination} {
		if strings.Contains(v, s) {
			return true
		}
	}
	for k, v := range e.Fields {
		if strings.Contains(k, s) || strings.Contains(v, s) {
			return true
		}
	}
	return false
}

// AssertNames fails the test unless the recorder holds exactly the given
// event names in this order.
func AssertNames(t testing.TB, rec *audit.Recorder, want ...string) {
	t.Helper()
	got := rec.Names()
	if !slices.Equal(got, want) {
		t.Errorf("audit events = %v, want %v", got, want)
	}
}
