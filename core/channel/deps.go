package channel

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/enrollpage"
	"github.com/resetbot/resetbot/core/handoff"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store"
	"github.com/resetbot/resetbot/core/token"
)

// Deps are what a channel gets from the rest of resetbot: narrow
// dependencies, never the wiring or the whole configuration, so that an
// adapter can be built in a test from fakes and cannot reach what it has no
// business with. The root fills every field it has; the optional ones may be
// nil, and the adapter then turns the matching feature off.
type Deps struct {
	// Engine runs conversation turns. Required.
	Engine Engine
	// Messages renders catalogued messages. Required.
	Messages Messages
	// Tokens signs and verifies the values clients send back (buttons,
	// modal metadata, card data). Required.
	Tokens Tokens
	// Store is the shared state store: delivery claims, remembered
	// conversations, status-message references. Required.
	Store store.Store
	// Audit records the channel's own events (a webhook refused by
	// authentication, a refused agent command). Required.
	Audit audit.Sink
	// Log receives operational logs. Required.
	Log *slog.Logger

	// Accounts finds directory accounts (the chat identity mapping; a
	// handoff naming a login reached by the account's e-mail); nil turns
	// those off.
	Accounts Accounts
	// Transport, if set, carries the channel's outbound HTTP calls (tests
	// pass one that reaches their fake platform or trusts its TLS); nil
	// lets the adapter build its own pooled transport (core/server.Transport).
	Transport http.RoundTripper
	// Pages issues one-time authenticator enrollment pages; nil when no
	// chat channel delivers enrollments as a page.
	Pages *enrollpage.Pages
	// Handoffs starts and reads help-desk handoffs for the agents' command;
	// nil disables the command.
	Handoffs Handoffs
	// Lifter lifts the bot's pauses on an account (agent "lift" command);
	// nil refuses it.
	Lifter handoff.Lifter
	// CallerKey keys a phone caller's remembered language (an HMAC of the
	// number); nil remembers nothing.
	CallerKey []byte
	// PublicURL is the server's public base URL: webhook signatures are
	// checked against it and app manifests point to it.
	PublicURL string
	// SessionTTL is the longest a conversation lives (sessions.
	// absolute_timeout): buttons and cards stop working after it.
	SessionTTL time.Duration
}

// Engine runs one conversation turn (core/engine.Engine).
type Engine interface {
	Handle(ctx context.Context, t engine.Turn) engine.Reply
	// Flows are the flows the engine runs, for menus and commands.
	Flows() []*engine.Flow
}

// Messages renders catalogued messages (core/messages.Catalog).
type Messages interface {
	Text(locale, id string, voice bool, args map[string]string) string
	// Voice is the text-to-speech voice and language for a locale.
	Voice(locale string) (voice, language string)
	// Languages are the catalog's languages, the default first.
	Languages() []string
}

// Tokens signs and verifies tokens bound to a purpose and a user
// (core/token.Signer).
type Tokens interface {
	Sign(c token.Claims) string
	Verify(tok, purpose, user string) (token.Claims, error)
}

// Accounts finds directory accounts (core/directory.Directory).
type Accounts interface {
	Find(ctx context.Context, key directory.Key, value string) ([]directory.User, error)
}

// Handoffs is the part of the handoff store the agents' commands use
// (core/handoff.Store).
type Handoffs interface {
	// Start records a handoff and starts it with st.
	Start(ctx context.Context, h handoff.Handoff, st handoff.Starter) (handoff.Handoff, error)
	Get(ctx context.Context, id string) (handoff.Handoff, error)
	// ConfirmReadback checks the phrase an agent reads back.
	ConfirmReadback(ctx context.Context, id string, phrase secret.String) (handoff.ReadbackResult, error)
}
