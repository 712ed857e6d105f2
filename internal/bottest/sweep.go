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
				if leaks(v, s) {
					t.Errorf("sweep: secret %s… leaked into the %s: %s", s[:2], name, clip(v, s))
					break
				}
			}
		}
	}
}

// leaks reports whether secret s appears in v. A secret of digits only (a
// one-time code) counts where it stands as a number of its own, not as a
// run inside a longer one: six digits chosen at random turn up by chance in
// the nanoseconds of a timestamp or a hexadecimal identifier, while a code
// that leaks is written as a number ("your code is 123456", "code=123456").
func leaks(v, s string) bool {
	if !digitsOnly(s) {
		return strings.Contains(v, s)
	}
	for i := 0; ; {
		j := strings.Index(v[i:], s)
		if j < 0 {
			return false
		}
		at, end := i+j, i+j+len(s)
		if (at == 0 || !alnum(v[at-1])) && (end == len(v) || !alnum(v[end])) {
			return true
		}
		i = at + 1
	}
}

func digitsOnly(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func alnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// clip shows the neighbourhood of the secret with the secret itself
// masked, so a failing sweep does not print it whole.
func clip(v, s string) string {
	i := strings.Index(v, s)
	from, to := max(0, i-80), min(len(v), i+len(s)+80)
	return strings.ReplaceAll(v[from:to], s, s[:2]+"…")
}
