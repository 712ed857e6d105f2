package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/resetbot/resetbot/core/logging"
	"github.com/resetbot/resetbot/core/secret"
)

// JSONWriter is a Sink that appends one JSON object per line to an io.Writer
// (a file opened O_APPEND, stdout shipped by the platform, a syslog writer).
//
// Writes are synchronous and serialised by a mutex: an event is on its way to
// the writer before Write returns, so nothing is lost in a queue on a crash and
// no queue can grow without bound. A slow writer therefore slows the callers;
// wrap a slow network writer in a buffered, bounded writer of your own.
type JSONWriter struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time
}

var _ Sink = (*JSONWriter)(nil)

// Option configures a JSONWriter.
type Option func(*JSONWriter)

// WithClock sets the clock used to stamp events whose Time is zero.
func WithClock(now func() time.Time) Option {
	return func(j *JSONWriter) { j.now = now }
}

// NewJSONWriter returns a JSONWriter appending to w.
func NewJSONWriter(w io.Writer, opts ...Option) *JSONWriter {
	j := &JSONWriter{w: w, now: time.Now}
	for _, o := range opts {
		o(j)
	}
	return j
}

// MarshalJSON implements json.Marshaler. The time is written as a string in
// UTC, RFC 3339 with a "Z" suffix, whatever the zone of the input.
func (e Event) MarshalJSON() ([]byte, error) {
	type plain Event // drops the method set, so no recursion
	// Defence in depth: a Fields entry whose key names a secret ("code",
	// "password", ...) is written as REDACTED. Values under other keys cannot
	// be recognised; see the package documentation.
	if len(e.Fields) > 0 {
		f := make(map[string]string, len(e.Fields))
		for k, v := range e.Fields {
			if logging.Sensitive(k) {
				v = secret.Redacted
			}
			f[k] = v
		}
		e.Fields = f
	}
	return json.Marshal(struct {
		Time string `json:"time"`
		plain
	}{Time: FormatTime(e.Time), plain: plain(e)})
}

// FormatTime renders t as audit records do: UTC, RFC 3339 with fractional
// seconds when present, always ending in "Z".
func FormatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// Write implements Sink. It stamps a zero Time from the writer's clock, encodes
// the event as a single line and writes it with one Write call. A cancelled
// ctx does not stop it: a local append is quick, and a decision whose client
// hung up must still be on record.
func (j *JSONWriter) Write(_ context.Context, e Event) error {
	if e.Time.IsZero() {
		e.Time = j.now()
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// json escapes control characters, U+2028 and U+2029, so user-typed text
	// cannot start a new line; Encode adds exactly one trailing newline.
	if err := enc.Encode(e); err != nil {
		return fmt.Errorf("audit: encode %s: %w", e.Name, err)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("audit: write %s: %w", e.Name, err)
	}
	return nil
}
