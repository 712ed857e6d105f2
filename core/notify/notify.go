// Package notify is the contract for delivering messages to people outside the
// conversation: one-time codes and generated passphrases by SMS, voice call or
// e-mail, and notices ("your password was reset") on an independent channel.
//
// A Message carries its content as secret.String, because a code or passphrase
// is exactly what an attacker reading logs would want. Only a Sender reveals
// the body, to hand it to the provider. For logs and audit records a Message
// offers Summary, its kind and a masked destination (see LogValue).
//
// Implementations live in sub-packages: notify/email (SMTP) and notify/outbox
// (an in-memory terminal outbox for the demo and tests). Each is a notifier
// plug-in: its configuration (notify.<type>) is an Opener that validates
// itself and opens its Senders (open.go). notify/twilio (SMS and code calls)
// is a provider account configured in a channel's block (channels.twilio)
// and opened through AccountOpener when notify.sms.provider names that
// block; a Sender that serves its own webhook (the code call's "press 1") is
// Routed. Queue wraps any Sender with a bounded asynchronous queue.
package notify

import (
	"context"
	"errors"
	"log/slog"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/secret"
)

// Kind says what a message carries, which decides how carefully it is handled.
type Kind string

// Message kinds.
const (
	// KindCode is a one-time verification code.
	KindCode Kind = "code"
	// KindPassphrase is a generated password or passphrase.
	KindPassphrase Kind = "passphrase"
	// KindNotice is an informational notice that carries no secret, such as
	// "your password was changed".
	KindNotice Kind = "notice"
)

// Channel names a delivery channel.
type Channel string

// Delivery channels.
const (
	ChannelSMS   Channel = "sms"
	ChannelVoice Channel = "voice"
	ChannelEmail Channel = "email"
	ChannelChat  Channel = "chat"
)

// Errors returned by Senders and Queue.
var (
	// ErrQueueFull means a Queue had no room: the message was not accepted and
	// the caller should tell the user to try again later rather than wait.
	ErrQueueFull = errors.New("notify: queue full")
	// ErrClosed means the Sender has been closed.
	ErrClosed = errors.New("notify: closed")
	// ErrInvalidMessage means the message was refused before any delivery
	// attempt (empty or malformed destination, a line break in a header).
	ErrInvalidMessage = errors.New("notify: invalid message")
)

// Message is one notification. Build Body and Voice from the message catalog
// (fixed templates); never put user-typed text in To or Subject.
type Message struct {
	// Kind says whether the body carries a secret.
	Kind Kind
	// To is the destination: an E.164 phone number, an e-mail address or a
	// chat identity, as the Sender expects. It comes from the directory, never
	// from user input.
	To string
	// Subject is the e-mail subject (ignored by other channels).
	Subject string
	// Body is the rendered plain text; it may carry a code or passphrase.
	Body secret.String
	// Voice is the spoken variant for voice calls; it may carry a code spelled
	// out. Senders that do not speak ignore it.
	Voice secret.String
	// Summary is a non-secret description for logs and audit, such as the
	// message id ("reset.code_sent").
	Summary string
	// Locale is the language the message was rendered in ("en", "es-MX").
	Locale string
}

// LogValue implements slog.LogValuer: kind, masked destination, summary and
// locale, never the body.
func (m Message) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("kind", string(m.Kind)),
		slog.String("to", audit.MaskDestination(m.To)),
		slog.String("summary", m.Summary),
		slog.String("locale", m.Locale),
	)
}

// String implements fmt.Stringer with the same safe fields as LogValue, so
// %v and %+v of a Message show neither the body nor the full destination.
func (m Message) String() string {
	return "notify.Message{kind=" + string(m.Kind) + " to=" + audit.MaskDestination(m.To) +
		" summary=" + m.Summary + " locale=" + m.Locale + "}"
}

// GoString implements fmt.GoStringer so %#v is as safe as %v.
func (m Message) GoString() string { return m.String() }

// Sender delivers messages on one channel.
//
// Send returns once the provider has accepted the message (or, for a Queue,
// once the message is queued). It is safe for concurrent use. An error means
// the message was not delivered (or not accepted); errors never contain the
// body. Send is not idempotent: calling it twice sends twice.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// SenderFunc adapts a function to the Sender interface.
type SenderFunc func(ctx context.Context, m Message) error

// Send implements Sender.
func (f SenderFunc) Send(ctx context.Context, m Message) error { return f(ctx, m) }
