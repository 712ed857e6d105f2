package ocsf

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/resetbot/resetbot/core/audit"
)

// Writer is an audit.Sink that writes each event as one OCSF JSON object
// with one Write call on w: a line on a file or standard output (a trailing
// newline is added), or one message on a Syslog.
type Writer struct {
	mu      sync.Mutex
	w       io.Writer
	product Product
	now     func() time.Time
}

var _ audit.Sink = (*Writer)(nil)

// NewWriter returns a Writer appending OCSF events to w. version is
// resetbot's version for metadata.product.version.
func NewWriter(w io.Writer, version string) *Writer {
	return &Writer{w: w, now: time.Now, product: Product{Name: "resetbot", Vendor: "resetbot", Version: version}}
}

// Write implements audit.Sink.
func (o *Writer) Write(ctx context.Context, e audit.Event) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ocsf: %w", err)
	}
	if e.Time.IsZero() {
		e.Time = o.now()
	}
	var buf bytes.Buffer
	// Encode escapes control characters, so typed text cannot start a line.
	if err := json.NewEncoder(&buf).Encode(Map(e, o.product)); err != nil {
		return fmt.Errorf("ocsf: encode %s: %w", e.Name, err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, err := o.w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("ocsf: write %s: %w", e.Name, err)
	}
	return nil
}
