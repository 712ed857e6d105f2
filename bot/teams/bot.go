// Package teams is the Microsoft Teams channel: Bot Framework activities in,
// Adaptive Cards out, driven by the same engine and flows as every channel.
//
// The project owns every security- and reliability-critical part instead of
// relying on msbotbuilder-go, whose schema types are reused for the wire
// format only (see docs/teams.md and go-libraries.md §3):
//
//   - Validator verifies the channel's JWT (RS256 only, configurable OpenID
//     metadata, a JWKS cache refreshed on unknown key IDs, issuer, audience,
//     lifetime, serviceurl and channel endorsement) before the body is parsed.
//   - Connector sends replies with client-credentials tokens from the
//     tenant's own token endpoint, cached, refreshed early, with timeouts,
//     bounded retries and a serviceUrl allowlist.
//   - Bot is the POST /api/messages handler: body limit, tenant check,
//     deduplication by activity ID, in-body invoke responses, panic recovery.
//
// Conversations happen in personal (1:1) chat. A mention in a team channel
// gets a short reply there and the conversation continues privately. Every
// prompt is one live card; after a submit it is updated in place, so no
// input (and no enrollment QR code) stays on screen.
package teams

import (
	"context"
	"errors"
	"github.com/resetbot/resetbot/core/channel/hold"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/resetbot/resetbot/bot/chatid"
	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/dispatch"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/enrollpage"
	"github.com/resetbot/resetbot/core/store"
)

// Channel is the engine channel name of Teams turns.
const Channel = "teams"

// Engine runs turns and lists the flows for the greeting menu.
type Engine interface {
	Handle(ctx context.Context, t engine.Turn) engine.Reply
	Flows() []*engine.Flow
}

// Submitter queues background work (core/dispatch.Pool).
type Submitter interface {
	Submit(j dispatch.Job) error
}

// Options configure a Bot. All fields but Log, Clock, CardTTL, InvokeWait,
// Audit and the help-desk fields (HelpDeskChannel, Handoffs, Accounts) are
// required.
type Options struct {
	Config    Config
	Engine    Engine
	Messages  Renderer
	Tokens    Signer
	Store     store.Store
	Pool      Submitter
	Validator *Validator
	Connector *Connector
	Log       *slog.Logger
	Clock     func() time.Time
	// CardTTL bounds how long a card's buttons work (default 30 min).
	CardTTL time.Duration
	// InvokeWait is how long a card invoke may take before the HTTP answer
	// says "working on it" and the result is sent by the connector (default 4s;
	// Teams gives up on invokes after about 5s).
	InvokeWait time.Duration
	// Audit receives authn.rejected for every refused activity and
	// handoff.refused for refused agent commands (default: discarded).
	Audit audit.Sink
	// HelpDeskChannel is the help-desk channel's conversation ID
	// (channels.teams.help_desk_channel): escalation packets go there and
	// agents hand users to the bot from there.
	HelpDeskChannel string
	// Handoffs starts agent handoffs; nil disables the agent command.
	Handoffs HandoffStore
	// Accounts maps a handoff's login to the e-mail address Teams knows the
	// person by; nil: handoffs must name the UPN or e-mail address.
	Accounts Accounts
	// Lifter lifts the bot's pauses on an account for the agent command
	// "handoff <person> lift"; nil refuses it.
	Lifter Lifter
	// Pages issues the one-time enrollment pages (enroll_delivery page, the
	// default); without it enrollments cannot be shown in page mode.
	Pages *enrollpage.Pages
}

// Bot handles Teams activities. It is an http.Handler for POST /api/messages
// and is safe for concurrent use.
type Bot struct {
	cfg       Config
	engine    Engine
	msg       Renderer
	store     store.Store
	pool      Submitter
	validator *Validator
	conn      *Connector
	cards     *cards
	log       *slog.Logger
	now       func() time.Time
	wait      time.Duration
	// turnWait bounds how long a message's request waits for its turn
	// (TurnWait).
	turnWait time.Duration
	ttl      time.Duration
	audit    audit.Sink
	helpDesk string
	handoffs HandoffStore
	accounts Accounts
	lifter   Lifter
	mapper   *chatid.Mapper

	pages    *enrollpage.Pages
	cleanups *enrollpage.Cleanups

	hintMu sync.Mutex
	hints  map[string]hintEntry
	guests map[string]guestEntry

	svcURL   atomic.Value // string: serviceUrl of the latest authenticated activity
	statusMu sync.Mutex   // serialises agent status card updates

	// out answers clicks on outreach notices (outreach.go).
	out outreachState
	// hold tracks replies held back for their timing floor (ackturn.go).
	hold *hold.Hold
}

// New returns a Bot. It refuses an empty app ID or tenant ID: the first would
// accept any token, the second any organisation's users.
func New(opt Options) (*Bot, error) {
	if opt.Config.AppID == "" || opt.Config.TenantID == "" {
		return nil, errors.New("teams: app ID and tenant ID are required")
	}
	if opt.Engine == nil || opt.Messages == nil || opt.Tokens == nil || opt.Store == nil ||
		opt.Pool == nil || opt.Validator == nil || opt.Connector == nil {
		return nil, errors.New("teams: engine, messages, tokens, store, pool, validator and connector are required")
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Clock == nil {
		opt.Clock = time.Now
	}
	if opt.CardTTL <= 0 {
		opt.CardTTL = 30 * time.Minute
	}
	if opt.Audit == nil {
		opt.Audit = audit.Discard
	}
	if opt.InvokeWait <= 0 {
		opt.InvokeWait = 4 * time.Second
	}
	var dir chatid.Finder
	if opt.Accounts != nil {
		dir = opt.Accounts
	}
	return &Bot{
		hold:   hold.New(heldSendTimeout, nil, opt.Log),
		mapper: chatid.New(opt.Config.IdentityMapping, dir, opt.Clock),
		cfg:    opt.Config, engine: opt.Engine, msg: opt.Messages, store: opt.Store, pool: opt.Pool,
		validator: opt.Validator, conn: opt.Connector, log: opt.Log, now: opt.Clock,
		wait: opt.InvokeWait, turnWait: TurnWait, ttl: opt.CardTTL, hints: map[string]hintEntry{}, guests: map[string]guestEntry{},
		audit: opt.Audit, helpDesk: opt.HelpDeskChannel, handoffs: opt.Handoffs, accounts: opt.Accounts, lifter: opt.Lifter,
		pages: opt.Pages, cleanups: enrollpage.NewCleanups(opt.Store, "teams-qr", opt.Clock, opt.Log),
		cards: &cards{msg: opt.Messages, tokens: opt.Tokens, style: opt.Config.ActionStyle(), ttl: opt.CardTTL, now: opt.Clock},
	}, nil
}
