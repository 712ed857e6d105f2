// Package loggingtest lets tests of any package capture what their code logs
// through the production redacting handler, and assert that no secret leaked.
package loggingtest

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/resetbot/resetbot/core/logging"
)

// Buffer collects log output. It is safe for concurrent use, so the code under
// test may log from several goroutines.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Lines returns the non-empty lines written so far.
func (b *Buffer) Lines() []string {
	var out []string
	for _, l := range strings.Split(b.String(), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// Records decodes every line as a JSON object. It fails the test on a line
// that is not JSON (Capture always logs JSON).
func (b *Buffer) Records(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range b.Lines() {
		m := map[string]any{}
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %v: %q", err, l)
		}
		out = append(out, m)
	}
	return out
}

// Contains reports whether s appears anywhere in the output.
func (b *Buffer) Contains(s string) bool { return strings.Contains(b.String(), s) }

// AssertNoSecrets fails the test if any of the raw secret values appears in
// the output. Empty strings are ignored.
func (b *Buffer) AssertNoSecrets(t testing.TB, secrets ...string) {
	t.Helper()
	out := b.String()
	for _, s := range secrets {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("secret %q leaked into the log (captured output is printed below)", s)
		}
	}
}

// Capture returns a JSON logger at debug level that writes into the returned
// buffer through the same redacting handler production uses. When the test
// fails, the captured output is printed to help debugging.
func Capture(t testing.TB) (*slog.Logger, *Buffer) {
	t.Helper()
	b := &Buffer{}
	t.Cleanup(func() {
		if t.Failed() && b.String() != "" {
			t.Logf("captured log:\n%s", b.String())
		}
	})
	return logging.New(b, slog.LevelDebug, logging.FormatJSON), b
}
