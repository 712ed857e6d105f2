package notify

import (
	"context"
	"io"
	"time"

	"github.com/resetbot/resetbot/core/plugin"
)

// Deps are what a notifier plug-in may need to open, beyond its own
// settings.
type Deps struct {
	// Clock reads the time (time.Now when nil).
	Clock func() time.Time
	// Production is true outside demo mode: demo notifiers refuse to open.
	Production bool
	// Console is where a demo notifier shows what it would have sent; nil
	// shows nothing.
	Console io.Writer
}

// Opener is a notifier plug-in's configuration (notify.<type>): the
// configuration framework decodes and validates it, and the composition root
// opens the notifier from the same value, wrapping each Sender in a bounded
// Queue unless it delivers in process (Direct).
type Opener interface {
	plugin.Config
	// Delivers reports whether the configured notifier delivers on ch, so
	// that configuration checks can tell whether a factor has a way to
	// reach people.
	Delivers(ch Channel) bool
	// Open returns a Sender for each channel it delivers on. The caller
	// closes a Sender that is an io.Closer.
	Open(ctx context.Context, deps Deps) (map[Channel]Sender, error)
}

// Direct is implemented by a Sender that delivers in process and never
// blocks (the demo outbox). The composition root calls it without a Queue,
// so what it captured is there when the turn that sent it returns.
type Direct interface {
	Sender
	DeliversInProcess()
}
