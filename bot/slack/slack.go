// Package slack is the Slack channel: it turns Events API deliveries, Socket
// Mode envelopes, button clicks, modal submissions and slash commands into
// neutral engine turns, and renders the engine's outputs as Block Kit.
//
// Security shape, in the order a request meets it:
//
//   - HTTP requests are size-limited, then authenticated with the signing
//     secret (HMAC over "v0:ts:body", 5-minute window) before anything parses
//     them. Socket Mode needs no signature: the WebSocket is opened by us with
//     the app-level token.
//   - Every delivery is passed to the engine with a DeliveryID (event_id, or
//     the interaction's trigger_id), which the engine claims in the same
//     store step that loads the session, so a retry or a replay never acts
//     twice.
//   - Events (messages, mentions) run on a bounded dispatch pool before
//     Slack is acknowledged, within AckBudget: the ack follows the commit
//     and the post of the reply, so a crash or a store outage never loses an
//     acknowledged event (see ackturn.go). Commands and clicks are still
//     acknowledged at once and their turns queued. A full pool, a store
//     found down, or a turn that did not finish in time answers 503 (HTTP)
//     or withholds the ack (Socket Mode), so that Slack redelivers.
//   - Buttons and modals carry signed tokens (core/token) bound to the Slack
//     user, the flow state and an expiry; a click or submission from another
//     user, an altered value or a stale step is refused before the engine.
//   - Passwords and codes are typed in modals, never posted; the conversation
//     itself happens in the DM with the bot, and a command used in a channel
//     gets only an ephemeral "continue in DM" note there. A click, command,
//     shortcut or App Home button opens the next prompt's modal at once with
//     its trigger_id, and a submission whose next prompt is typed input
//     again replaces the modal with it (one action per factor, modal.go).
//   - The Slack profile (email, locale) is an identity signal for the engine,
//     never a verification factor: a confirmed profile email that names
//     exactly one directory account (identity_mapping) starts the flow for
//     that account; anything else gets the same replies as no profile.
package slack

import (
	"context"
	"errors"
	"fmt"
	"github.com/resetbot/resetbot/core/channel/hold"
	"github.com/resetbot/resetbot/internal/ttlcache"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/resetbot/resetbot/bot/chatid"
	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/dispatch"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/enrollpage"
	"github.com/resetbot/resetbot/core/server"
	"github.com/resetbot/resetbot/core/store"
	"github.com/resetbot/resetbot/core/token"
)

// Channel is the engine channel name of this adapter.
const Channel = "slack"

// Paths served on the public listener in Events API (HTTP) mode.
const (
	PathEvents        = "/slack/events"
	PathInteractivity = "/slack/interactivity"
	PathCommands      = "/slack/commands"
)

// Engine runs one turn (core/engine.Engine).
type Engine interface {
	Handle(ctx context.Context, t engine.Turn) engine.Reply
}

// Renderer renders catalogued messages (core/messages.Catalog).
type Renderer interface {
	Text(locale, id string, voice bool, args map[string]string) string
}

// Signer signs and verifies button and modal tokens (core/token.Signer).
type Signer interface {
	Sign(c token.Claims) string
	Verify(tok, purpose, user string) (token.Claims, error)
}

// Claimer is the part of the state store used to claim deliveries once and
// to remember where handoff status messages are.
type Claimer interface {
	Get(ctx context.Context, key string) (store.Record, error)
	CompareAndSwap(ctx context.Context, key string, expect uint64, value []byte, ttl time.Duration) (uint64, error)
	Delete(ctx context.Context, key string) error
}

// Options configure a Bot. Config, Engine, Messages, Tokens and Store are
// required.
type Options struct {
	Config Config
	// PublicURL is the server's public base URL (for the manifest).
	PublicURL string
	Engine    Engine
	Messages  Renderer
	Tokens    Signer
	Store     Claimer
	// Handoffs starts help-desk handoffs for the agent command
	// (core/handoff.Store); nil disables the command.
	Handoffs HandoffStore
	// Lifter lifts the bot's pauses on an account for the agent command
	// "@person lift"; nil refuses it.
	Lifter Lifter
	// Audit records refused agent commands; nil records nothing.
	Audit audit.Sink
	// HelpDeskChannel is the channel ID escalation packets are posted to
	// (channels.slack.help_desk_channel); see Attach.
	HelpDeskChannel string
	// Log receives operational logs; nil discards them.
	Log *slog.Logger
	// Clock defaults to time.Now.
	Clock func() time.Time
	// APIURL overrides the Web API base URL; it must end with "/". Tests
	// point it at a fake; production leaves it empty (https://slack.com/api/).
	APIURL string
	// HTTPClient calls the Web API; nil uses a client with a 10 s timeout,
	// and the methods on a turn's path (users.info, chat.postMessage) then
	// go over the Bot's own kept-alive connections (apiConns). A client
	// given here carries every call.
	HTTPClient *http.Client
	// Pool runs turns after the ack; nil creates one sized from Config,
	// which Close stops.
	Pool *dispatch.Pool
	// SubmitWait bounds how long a modal submission waits for its turn so a
	// refusal can be shown inside the modal (default 2.5 s, under Slack's 3 s).
	SubmitWait time.Duration
	// TokenTTL is how long buttons and modals stay usable (default 30 min).
	TokenTTL time.Duration
	// Accounts finds directory accounts for the identity mapping
	// (Config.IdentityMapping); nil turns the mapping off.
	Accounts chatid.Finder
	// Pages issues the one-time enrollment pages (enroll_delivery page, the
	// default); without it enrollments cannot be shown in page mode.
	Pages *enrollpage.Pages
}

// Bot is the Slack adapter. It is safe for concurrent use.
type Bot struct {
	o             Options
	api           *slack.Client
	pool          *dispatch.Pool
	ownPool       bool
	users         *ttlcache.Cache[profile]
	mapper        *chatid.Mapper
	log           *slog.Logger
	now           func() time.Time
	reset, unlock string
	teams         map[string]bool
	handoffCmd    string
	agents        agentSet
	team          teamCache
	status        *statusBoard
	cleanups      *enrollpage.Cleanups
	stopSweep     context.CancelFunc
	swept         chan struct{}
	// hold keeps replies back for their timing floor off the workers.
	hold *hold.Hold
	// qrs are the users with an enrollment QR this replica posted.
	qrs sync.Map
	// out answers clicks on outreach notices (outreach.go).
	out outreachState
	// conns carries callForm's calls when the HTTP client is the Bot's own
	// (nil otherwise).
	conns *apiConns
}

// Token purposes; a token for one purpose is refused for any other.
const (
	purposeChoice = "slack.choice"
	purposeOpen   = "slack.open"
	purposeModal  = "slack.modal"
)

// Modal kinds carried in open-button and modal tokens.
const (
	kindSecret        = "secret"
	kindSecretConfirm = "secret2"
	kindAnswer        = "answer" // a security-question answer: one masked-in-spirit field
	kindCode          = "code"
)

// New builds a Bot. It does not contact Slack.
func New(o Options) (*Bot, error) {
	if o.Engine == nil || o.Messages == nil || o.Tokens == nil || o.Store == nil {
		return nil, errors.New("slack: Engine, Messages, Tokens and Store are required")
	}
	if !o.Config.SocketMode && o.Config.SigningSecret.Empty() {
		return nil, errors.New("slack: a signing secret is required for HTTP events")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	workers, queue := o.Config.Workers, o.Config.Queue
	if workers <= 0 {
		workers = DefaultWorkers
	}
	if queue <= 0 {
		queue = DefaultQueue
	}
	var own *http.Transport
	if o.HTTPClient == nil {
		// The library's default client has no timeout, and the default
		// transport keeps 2 idle connections per host: with more workers,
		// every third reply paid a new TLS handshake.
		own = server.Transport(workers)
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second, Transport: own}
	}
	if o.SubmitWait <= 0 {
		o.SubmitWait = 2500 * time.Millisecond
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = 30 * time.Minute
	}
	b := &Bot{o: o, log: o.Log.With("channel", Channel), now: o.Clock, users: ttlcache.New[profile](profileTTL, profileCacheMax, o.Clock)}
	b.conns = newAPIConns(own, b.apiBase(), o.HTTPClient.Timeout, workers+4)
	b.reset, b.unlock = o.Config.Commands()
	b.mapper = chatid.New(o.Config.IdentityMapping, o.Accounts, o.Clock)
	b.handoffCmd = o.Config.Handoff()
	if len(o.Config.TeamIDs) > 0 {
		b.teams = map[string]bool{}
		for _, t := range o.Config.TeamIDs {
			b.teams[t] = true
		}
	}
	b.api = slack.New(o.Config.BotToken.Reveal(), b.apiOptions()...)
	b.pool = o.Pool
	if b.pool == nil {
		b.pool, b.ownPool = dispatch.New(workers, queue, time.Minute, b.log), true
	}
	b.status = newStatusBoard(b)
	b.cleanups = enrollpage.NewCleanups(o.Store, "slack-qr", o.Clock, b.log)
	if !o.Config.EnrollPage() {
		ctx, cancel := context.WithCancel(context.Background())
		b.stopSweep, b.swept = cancel, make(chan struct{})
		go func() { defer close(b.swept); b.sweep(ctx) }()
	}
	b.hold = hold.New(30*time.Second, nil, b.log)
	return b, nil
}

func (b *Bot) apiOptions() []slack.Option {
	opts := []slack.Option{slack.OptionHTTPClient(b.o.HTTPClient)}
	if b.o.APIURL != "" {
		opts = append(opts, slack.OptionAPIURL(b.o.APIURL))
	}
	if !b.o.Config.AppToken.Empty() {
		opts = append(opts, slack.OptionAppLevelToken(b.o.Config.AppToken.Reveal()))
	}
	return opts
}

// releaseTimeout bounds releasing a cut turn's claim during shutdown.
const releaseTimeout = 500 * time.Millisecond

// Close stops the worker pool the Bot created, after queued turns finish,
// then posts the queued handoff status changes. It waits as long as that
// takes; a server calls Shutdown.
func (b *Bot) Close() { _ = b.Shutdown(context.Background()) }

// Shutdown is Close bounded by ctx (the rest of server.shutdown_timeout):
// at ctx's deadline turns still running or queued are cut (their contexts
// cancelled; the queued ones release their delivery claims) and the held
// replies and pending status posts are abandoned. It returns dispatch.ErrCut
// when turns were cut.
func (b *Bot) Shutdown(ctx context.Context) error {
	if b.stopSweep != nil {
		b.stopSweep()
		<-b.swept
	}
	var err error
	if b.ownPool {
		err = b.pool.Shutdown(ctx)
	}
	// Replies held back for their timing floor are shown, then the queued
	// status posts, within what is left of the budget.
	done := make(chan struct{})
	go func() { _ = b.hold.Drain(ctx); b.status.close(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		b.log.Warn("slack held replies and status posts abandoned at the shutdown deadline")
	}
	if b.conns != nil {
		// Calls still running close their connections when they end.
		b.conns.close()
	}
	return err
}

// Routes returns the HTTP handlers by ServeMux pattern (Events API mode).
func (b *Bot) Routes() map[string]http.Handler {
	return map[string]http.Handler{
		"POST " + PathEvents:        http.HandlerFunc(b.serveEvents),
		"POST " + PathInteractivity: http.HandlerFunc(b.serveInteractivity),
		"POST " + PathCommands:      http.HandlerFunc(b.serveCommands),
	}
}

// Handler returns one handler serving all Routes (for tests and embedding).
func (b *Bot) Handler() http.Handler {
	mux := http.NewServeMux()
	for p, h := range b.Routes() {
		mux.Handle(p, h)
	}
	return mux
}

// userKey is the engine's ChannelUser and the tokens' user: Slack user IDs
// are namespaced by workspace, so a session is bound to both.
func userKey(team, user string) string {
	if team == "" {
		return user
	}
	return team + ":" + user
}

// allowedTeam applies the optional workspace allowlist.
func (b *Bot) allowedTeam(team string) bool {
	return b.teams == nil || b.teams[team]
}

// claim marks a delivery as taken; false means it was seen before. A store
// failure fails open to the engine's own DeliveryID deduplication.
func (b *Bot) claim(ctx context.Context, id string) bool {
	_, err := b.o.Store.CompareAndSwap(ctx, "slack:dlv:"+id, 0, []byte{1}, time.Hour)
	if err == nil {
		return true
	}
	if !errorsIsConflict(err) {
		b.log.Warn("slack delivery claim failed; relying on engine dedupe", "err", err)
		return true
	}
	return false
}

// release forgets a claim so that Slack's retry of a delivery we could not
// queue is processed.
func (b *Bot) release(ctx context.Context, id string) {
	if err := b.o.Store.Delete(ctx, "slack:dlv:"+id); err != nil {
		b.log.Warn("slack delivery release failed", "err", err)
	}
}

// errBusy means the pool is full; the transport tells Slack to retry.
var errBusy = errors.New("slack: busy")

// later shows a reply at r.NotBefore (the turn's timing floor, which makes
// an unknown user and a wrong code answer as late as a known one) without
// holding the worker: the worker is free for the next turn meanwhile. It
// returns false when the reply is due now and the caller shows it.
func (b *Bot) later(ctx context.Context, r engine.Reply, show func(ctx context.Context)) bool {
	return b.hold.Later(ctx, r.NotBefore, show)
}

// queue runs a turn on the pool, or says the pool is full (errBusy: Slack
// retries, and as nothing was claimed, the retry runs).
func (b *Bot) queue(j func(ctx context.Context)) error {
	if err := b.pool.Submit(j); err != nil {
		b.log.Warn("slack turn not queued", "err", err)
		return fmt.Errorf("%w: %w", errBusy, err)
	}
	return nil
}

// submit queues a job, releasing the delivery claim when the pool is full.
// A job that shutdown cuts before it starts (its context is already done)
// releases the claim instead of running, so that a redelivery (Socket Mode
// withholds nothing once acked, but interactivity and retries do come back)
// is processed by a replica still running rather than answered "seen".
func (b *Bot) submit(ctx context.Context, delivery string, j func(ctx context.Context)) error {
	job := func(jctx context.Context) {
		if jctx.Err() != nil {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(jctx), releaseTimeout)
			defer cancel()
			b.release(rctx, delivery)
			b.log.Warn("slack turn cut by shutdown before it started; claim released")
			return
		}
		j(jctx)
	}
	if err := b.pool.Submit(job); err != nil {
		b.release(ctx, delivery)
		b.log.Warn("slack turn not queued", "err", err)
		return fmt.Errorf("%w: %w", errBusy, err)
	}
	return nil
}
