package flows_test

import (
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/policy"
	"github.com/resetbot/resetbot/flows"
)

// TestCommonPasswordsRefused: the passwords of issue 10 are refused with a
// plain reason, at the default minimum (15) and with it lowered to 8, and a
// passphrase then goes through.
func TestCommonPasswordsRefused(t *testing.T) {
	lowered := func(d *flows.Deps) {
		pc, err := policy.New(policy.Options{MinLength: 8, CheckRepetition: true})
		if err != nil {
			t.Fatal(err)
		}
		d.Passwords = pc
	}
	cases := []struct {
		name   string
		mutate func(*flows.Deps)
		tries  map[string]string // password → message ID
	}{
		{"default", func(*flows.Deps) {}, map[string]string{
			"Password123!":     "password.rejected.too_short",
			"password1234":     "password.rejected.too_short",
			"Password123456!":  "password.rejected.common",
			"iloveyou-forever": "password.rejected.weak",
		}},
		{"min 8", lowered, map[string]string{
			"Password123!": "password.rejected.common",
			"password1234": "password.rejected.common",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, oneFactor, tc.mutate)
			if r := verified(h, "U4", flows.FlowReset, "amartin"); r.State != "new_password" {
				t.Fatalf("state %s", r.State)
			}
			for pw, id := range tc.tries {
				r := h.send("slack", "U4", masked(pw, pw))
				if r.State != "new_password" || !strings.HasPrefix(h.lines[len(h.lines)-3], "< "+id) {
					t.Fatalf("%q: state %s, reply %q; want %s", pw, r.State, h.lines[len(h.lines)-3], id)
				}
				if text := h.cat.Text("en", id, false, map[string]string{"min": "15"}); text == "" || strings.Contains(text, pw) {
					t.Fatalf("%s has no plain text: %q", id, text)
				}
				h.secrets = append(h.secrets, pw)
			}
			const good = "Lantern-Violet-Ocean-Seven"
			if r := h.send("slack", "U4", masked(good, good)); r.State != "done" {
				t.Fatalf("state %s", r.State)
			}
			h.secrets = append(h.secrets, good)
			h.assertNoLeaks()
		})
	}
}
