package audittest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/audit/audittest"
	"github.com/resetbot/resetbot/core/secret"
)

// spy records failures instead of failing the real test.
type spy struct {
	testing.TB
	failed bool
}

func (s *spy) Helper()                   {}
func (s *spy) Errorf(string, ...any)     { s.failed = true }
func (s *spy) Fatalf(f string, a ...any) { s.failed = true; panic(fmt.Sprintf(f, a...)) }

func TestAssertNoSecrets(t *testing.T) {
	const code = "493817"
	pw := secret.New("Tr0ub4dor&3<x>")
	cases := []struct {
		name string
		ev   audit.Event
		leak bool
	}{
		{"clean", audit.Event{Name: audit.NameCodeSent, Destination: "•••0101", Fields: map[string]string{"pw": pw.String()}}, false},
		{"in reason", audit.Event{Name: audit.NameVerifyAttempt, Reason: "bad code " + code}, true},
		{"in field value", audit.Event{Name: audit.NameVerifyAttempt, Fields: map[string]string{"input": code}}, true},
		{"html-escaped in JSON", audit.Event{Name: audit.NameResetDone, Actor: pw.Reveal()}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var rec audit.Recorder
			_ = rec.Write(context.Background(), tc.ev)
			s := &spy{TB: t}
			audittest.AssertNoSecrets(s, &rec, code, pw.Reveal(), "")
			if s.failed != tc.leak {
				t.Errorf("failed = %v, want %v", s.failed, tc.leak)
			}
		})
	}
}

func TestAssertNames(t *testing.T) {
	var rec audit.Recorder
	_ = rec.Write(context.Background(), audit.Event{Name: "a"})
	_ = rec.Write(context.Background(), audit.Event{Name: "b"})
	audittest.AssertNames(t, &rec, "a", "b")
	s := &spy{TB: t}
	audittest.AssertNames(s, &rec, "a")
	if !s.failed {
		t.Error("AssertNames accepted a wrong list")
	}
}
