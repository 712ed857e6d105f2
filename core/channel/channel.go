// Package channel is the contract between resetbot and its channel adapters
// (Slack, Teams, the phone, ...): what a channel is, the optional
// capabilities a channel may have, and the narrow dependencies it is given.
//
// An adapter package exports one constructor,
//
//	func Open(ctx context.Context, deps channel.Deps, cfg Settings) (channel.Channel, error)
//
// and the composition root (cmd/resetbot) holds one registry line per
// adapter. The root opens the enabled channels, mounts their routes, starts
// them, and discovers the optional capabilities below by type assertion,
// registering each into the help-desk, poster and outreach registries. So
// adding a channel is one new package plus one registry line: no core
// package names a channel, and no adapter sees the wiring (*app.App) or the
// whole configuration.
package channel

import (
	"context"
	"net/http"

	"github.com/resetbot/resetbot/core/handoff"
	"github.com/resetbot/resetbot/core/outreach"
)

// Channel is one opened channel adapter.
//
// Lifecycle: Open builds it without serving anything; the root mounts
// Routes on the public listener, then calls Start once; on shutdown it calls
// Shutdown once with the rest of the server's shutdown budget.
type Channel interface {
	// Name is the channel's engine name ("slack", the phone's "voice"):
	// sessions, audit events, metrics, handoffs and chat destinations refer
	// to the channel by it. It is 1 to 32 lowercase letters, digits, '-' or
	// '_' (handoff.ValidChannel), unique among the opened channels; it may
	// differ from the channel's configuration key ("twilio").
	Name() string
	// Routes are the HTTP handlers to mount on the public listener, keyed
	// by net/http ServeMux pattern ("POST /slack/events"). A channel that
	// needs no inbound HTTP (Socket Mode) returns none. Every handler
	// authenticates a request before parsing it.
	Routes() map[string]http.Handler
	// Start begins the channel's background work (a Socket Mode or
	// WebSocket connection, a cleanup sweep) and returns without waiting for
	// it; the work runs until ctx is cancelled or Shutdown is called. A
	// channel with none returns nil.
	Start(ctx context.Context) error
	// Shutdown stops the background work and drains queued turns and
	// pending posts within ctx (the server's shutdown budget): at ctx's
	// deadline what is left is cut, and Shutdown returns. It is called once,
	// after the listener stopped taking requests.
	Shutdown(ctx context.Context) error
}

// The optional capabilities. The root checks each opened Channel for them
// with a type assertion; a channel implements only what its platform can do.
//
// Interfaces are kept to one method so that an adapter can offer a
// capability conditionally (a wrapper type per configuration) and tests can
// fake one without the others.

// HandoffStarter can reach a person the help desk hands to the bot: it
// finds them on the platform, opens a direct conversation, and starts the
// handoff's flow there. Handoffs name the channel by Name; a channel with
// this capability is a valid handoff channel. An error means the person
// could not be reached; it is the handoff's result, never shown to the user.
type HandoffStarter interface {
	StartHandoff(ctx context.Context, h handoff.Handoff) error
}

// HandoffWatcher is told of every handoff status change after it is stored,
// to keep the agent's live status message or card current. It must not
// block: the handoff store calls it inline.
type HandoffWatcher interface {
	HandoffChanged(ctx context.Context, h handoff.Handoff)
}

// HelpDeskPoster posts escalation packets (plain text, no secret) into the
// help desk's channel on the platform. ok is false when no help-desk target
// is configured for this channel, so it is not an escalation destination.
type HelpDeskPoster interface {
	HelpDesk() (p Poster, ok bool)
}

// ChatPoster posts plain text into a named conversation of the platform
// (alarms, the monthly summary): target is the platform's channel or
// conversation ID from the configuration.
type ChatPoster interface {
	PostTo(target string) Poster
}

// OutreachMessenger sends outreach notices (a locked-out account told by a
// direct message). answers resolves the clicks on the notices' buttons.
type OutreachMessenger interface {
	Outreach(answers outreach.Answerer) outreach.DirectMessenger
}

// PageUser is a capability of a channel's settings (its configuration
// block), not of the opened channel: the one-time authenticator enrollment
// pages (core/enrollpage) are built before any channel opens, since they are
// part of Deps. The root builds them when an enabled channel's settings say
// the channel shows enrollments through them, so a new chat channel gets
// them by saying so, without the root naming it.
type PageUser interface {
	// EnrollPage reports whether the channel shows an authenticator
	// enrollment as a link to the one-time page (its QR code and setup key
	// never enter the platform). The root asks only enabled channels.
	EnrollPage() bool
}

// Poster posts one plain-text message (core/handoff/escalate.Poster has the
// same method, so either satisfies the other).
type Poster interface {
	Post(ctx context.Context, text string) error
}
