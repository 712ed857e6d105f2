package loggingtest_test

import (
	"testing"

	"github.com/resetbot/resetbot/core/logging/loggingtest"
	"github.com/resetbot/resetbot/core/secret"
)

type spy struct {
	testing.TB
	failed bool
}

func (s *spy) Helper()               {}
func (s *spy) Errorf(string, ...any) { s.failed = true }

func TestCapture(t *testing.T) {
	l, buf := loggingtest.Capture(t)
	l.Debug("one", "user", "alice", "password", "pw-123")
	l.Info("two", "value", secret.New("s3cr3t"))
	if n := len(buf.Lines()); n != 2 {
		t.Fatalf("lines = %d", n)
	}
	recs := buf.Records(t)
	if recs[0]["msg"] != "one" || recs[0]["user"] != "alice" {
		t.Errorf("records = %v", recs)
	}
	buf.AssertNoSecrets(t, "pw-123", "s3cr3t", "")
	if !buf.Contains("alice") {
		t.Error("Contains")
	}
	s := &spy{TB: t}
	buf.AssertNoSecrets(s, "alice")
	if !s.failed {
		t.Error("AssertNoSecrets missed a value present in the log")
	}
}
