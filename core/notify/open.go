package notify

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/resetbot/resetbot/core/plugin"
	"github.com/resetbot/resetbot/core/store"
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
	// The fields below serve notifiers that keep state or speak for
	// themselves (Twilio's code calls); a notifier that needs one refuses to
	// open without it.

	// Store holds send budgets shared by replicas and codes waiting to be
	// spoken.
	Store store.Store
	// Messages renders the notifier's own catalogued words (a code call's
	// prompts).
	Messages Catalog
	// PublicURL is server.public_url, where a provider calls back.
	PublicURL string
	// Rand is the source of randomness (crypto/rand when nil).
	Rand io.Reader
	// Log is the operational log (discarded when nil).
	Log *slog.Logger
}

// Catalog renders catalogued messages (core/messages.Catalog), as text or
// for a voice.
type Catalog interface {
	Text(locale, id string, voice bool, args map[string]string) string
	// Voice returns the voice and language tag that speak locale.
	Voice(locale string) (voice, language string)
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

// AccountOpener is a channel plug-in's configuration whose provider account
// also sends codes and notices (channels.twilio: SMS and code calls).
// notify.sms.provider names its block; the composition root opens its
// senders as it opens a notifier's, behind the same bounded queues.
type AccountOpener interface {
	// Delivers reports whether the account is configured to deliver on ch.
	Delivers(ch Channel) bool
	// OpenSenders returns a Sender for each channel it delivers on. The
	// caller closes a Sender that is an io.Closer.
	OpenSenders(ctx context.Context, deps Deps) (map[Channel]Sender, error)
}

// Routed is implemented by a Sender that serves webhooks of its own (the
// "press 1" action of a code call). The composition root mounts its routes,
// keyed like core/channel routes ("POST /voice/code"), before it wraps the
// Sender in a Queue.
type Routed interface {
	Sender
	Routes() map[string]http.Handler
}
