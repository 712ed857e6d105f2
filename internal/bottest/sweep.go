package bottest

import (
	"strings"
	"testing"
)

// MinSecret is the sweep's one threshold: a secret shorter than this is
// refused, because grepping for it would match by chance or prove nothing.
// Six is the shortest secret resetbot handles (a one-time code).
const MinSecret = 6

// Sweep fails t if any secret appears in any captured stream: a log line,
// an audit record, a stored value or an outbound body. Secrets are what the
// scenario typed or was shown once (new passwords, one-time codes, TOTP
// seeds, tokens), raw. A secret shorter than MinSecret fails the test, and
// so does an empty capture (the sweep would prove nothing; Run's scenarios
// also require audit, stored values and outbound bodies).
func Sweep(t testing.TB, c Captured, secrets ...string) {
	t.Helper()
	if c.Logs == "" && c.Audit == "" && len(c.Stored) == 0 && len(c.Outbound) == 0 {
		t.Errorf("sweep: the capture is empty: it would prove nothing")
	}
	streams := map[string][]string{"log": {c.Logs}, "audit": {c.Audit}, "store": c.Stored, "outbound": c.Outbound}
	for _, s := range secrets {
		if len(s) < MinSecret {
			t.Fatalf("sweep: secret %q is shorter than %d characters: too short to grep", s, MinSecret)
		}
		for name, stream := range streams {
			for _, v := range stream {
				if strings.Contains(v, s) {
					t.Errorf("sweep: secret %s… leaked into the %s: %s", s[:2], name, clip(v, s))
					break
				}
			}
		}
	}
}

// clip shows the neighbourhood of the secret with the secret itself
// masked, so a failing sweep does not print it whole.
func clip(v, s string) string {
	i := strings.Index(v, s)
	from, to := max(0, i-80), min(len(v), i+len(s)+80)
	return strings.ReplaceAll(v[from:to], s, s[:2]+"…")
}
