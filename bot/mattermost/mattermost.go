// Package mattermost is the Mattermost channel: a bot account that
// connects out to the Mattermost server over its WebSocket API, receives the
// direct messages people send it, runs them through the engine as neutral
// turns, and answers with REST posts whose buttons are message-attachment
// actions and whose masked prompts are interactive dialogs.
//
// Security shape, in the order a request meets it:
//
//   - Inbound messages arrive over a WebSocket that resetbot opens with the
//     bot token (no inbound port for them). Only direct messages between a
//     person and the bot act; the bot's own posts, system posts and other
//     bots' posts are ignored.
//   - Button clicks and dialog submissions are relayed by the Mattermost
//     server to resetbot's callback routes, unsigned. Each button context
//     and dialog state therefore carries an HMAC token under a key of this
//     channel's own (callback_key), bound to the clicking user and the DM,
//     the session entry (engine step) it was shown for, and an expiry. A
//     request is size-limited and its token verified before anything else
//     in it is read; a request without a valid token does nothing.
//   - Every token and every dialog submission is claimed once in the store,
//     and every turn carries a delivery ID, so a replayed callback never
//     acts twice; a stale button (a later step, another conversation) is
//     refused by the engine.
//   - Passwords, answers and codes are entered in dialogs whose fields use
//     the password subtype (masked). A code or password typed into the DM
//     anyway is deleted from the channel and the person is told so.
//   - The Mattermost account's email is an identity signal, used only once
//     the server has verified it and only as configured (identity_mapping);
//     guests, deleted users, bots and accounts outside the team allowlist
//     get the same refusal.
package mattermost

import (
	"context"
	"crypto/tls"
	"errors"
	"github.com/resetbot/resetbot/core/channel/hold"
	"github.com/resetbot/resetbot/internal/ttlcache"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/dispatch"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/store"
	"github.com/resetbot/resetbot/core/token"
)

// Name is the engine and registry name of this channel.
const Name = "mattermost"

// Callback routes served on the public listener: the Mattermost server
// POSTs button clicks and dialog submissions there.
const (
	PathAction = "/mattermost/action"
	PathDialog = "/mattermost/dialog"
)

// Engine runs one turn (core/engine.Engine).
type Engine interface {
	Handle(ctx context.Context, t engine.Turn) engine.Reply
}

// Renderer renders catalogued messages (core/messages.Catalog).
type Renderer interface {
	Text(locale, id string, voice bool, args map[string]string) string
}

// Claimer is the part of the state store used to claim deliveries, tokens
// and submissions once.
type Claimer interface {
	CompareAndSwap(ctx context.Context, key string, expect uint64, value []byte, ttl time.Duration) (uint64, error)
	Delete(ctx context.Context, key string) error
}

// Options are what a Bot is built from: its own settings and narrow
// dependencies. Config, Engine, Messages and Store are required.
type Options struct {
	Config   Config
	Engine   Engine
	Messages Renderer
	Store    Claimer
	// Accounts finds directory accounts for the identity mapping; nil
	// turns the mapping off.
	Accounts Finder
	// Pages issues one-time authenticator enrollment pages; without it an
	// enrollment cannot be shown (the seed never enters Mattermost).
	Pages Pages
	// PublicURL is resetbot's public base URL, the default callback base.
	PublicURL string
	// Transport carries the REST calls (tests reach their fake server
	// through it); nil uses a pooled transport. The WebSocket dials with
	// its DialContext and TLS settings when it is an *http.Transport.
	Transport http.RoundTripper
	// Audit records refused callbacks and refused people
	// (authn.rejected, a reason code only); nil records nothing.
	Audit audit.Sink
	// Log receives operational logs; nil discards them.
	Log *slog.Logger
	// Clock defaults to time.Now.
	Clock func() time.Time
	// SubmitWait bounds how long a dialog submission waits for its turn,
	// so that a refusal can be shown inside the dialog (default 5 s).
	SubmitWait time.Duration
}

// Bot is the Mattermost adapter. It is safe for concurrent use.
type Bot struct {
	o        Options
	api      *api
	tokens   *token.Signer
	pool     *dispatch.Pool
	users    *ttlcache.Cache[profile]
	mapper   *mapper
	log      *slog.Logger
	now      func() time.Time
	teams    map[string]bool
	callback string // base URL of the callback routes

	dialer    func(ctx context.Context, network, addr string) (net.Conn, error)
	tlsConfig *tls.Config

	// botID is the bot account's user ID, learnt at Start (users/me).
	mu    sync.RWMutex
	botID string

	stop context.CancelFunc
	done chan struct{}
	// hold keeps replies back for their timing floor off the workers
	// (hold.go).
	hold   *hold.Hold
	notes  chan struct{} // bounds the "busy" notes posted off the pool
	closed atomic.Bool

	// connected, reconnects, events and queued count WebSocket
	// connections made, connections lost, events read and turns queued
	// (for metrics and tests).
	connected, reconnects, events, queued atomic.Int64
}

// Token purposes; a token for one purpose is refused for any other.
const (
	purposeChoice = "mattermost.choice"
	purposeOpen   = "mattermost.open"
	purposeDialog = "mattermost.dialog"
)

// New builds a Bot. It does not contact Mattermost; Start does.
func New(o Options) (*Bot, error) {
	if o.Engine == nil || o.Messages == nil || o.Store == nil {
		return nil, errors.New("mattermost: Engine, Messages and Store are required")
	}
	var problems []string
	o.Config.Enabled = true
	o.Config.Check("mattermost", func(p, m string) { problems = append(problems, p+": "+m) })
	if len(problems) > 0 {
		return nil, errors.New("mattermost: invalid settings: " + strings.Join(problems, "; "))
	}
	o.Config = o.Config.withDefaults()
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Audit == nil {
		o.Audit = audit.Discard
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.SubmitWait <= 0 {
		o.SubmitWait = 5 * time.Second
	}
	callback := strings.TrimSuffix(o.Config.CallbackURL, "/")
	if callback == "" {
		callback = strings.TrimSuffix(o.PublicURL, "/")
	}
	if callback == "" {
		return nil, errors.New("mattermost: callback_url (or the server's public URL) is required for buttons and dialogs")
	}
	signer, err := token.New([]byte(o.Config.CallbackKey.Reveal()), o.Clock)
	if err != nil {
		return nil, errors.New("mattermost: callback_key is shorter than 32 bytes")
	}
	tr := o.Transport
	if tr == nil {
		tr = defaultTransport(o.Config.Workers)
	}
	b := &Bot{o: o, tokens: signer, log: o.Log.With("channel", Name), now: o.Clock, callback: callback,
		api: &api{base: strings.TrimSuffix(o.Config.URL, "/"), token: o.Config.BotToken,
			hc: &http.Client{Timeout: 15 * time.Second, Transport: tr}},
		users: ttlcache.New[profile](profileTTL, profileCacheMax, o.Clock), notes: make(chan struct{}, 16)}
	b.hold = hold.New(30*time.Second, b.now, b.log)
	if t, ok := tr.(*http.Transport); ok {
		b.dialer, b.tlsConfig = t.DialContext, t.TLSClientConfig
	}
	b.mapper = newMapper(o.Config.IdentityMapping, o.Accounts, o.Clock)
	if len(o.Config.TeamIDs) > 0 {
		b.teams = map[string]bool{}
		for _, t := range o.Config.TeamIDs {
			b.teams[t] = true
		}
	}
	b.pool = dispatch.New(o.Config.Workers, o.Config.Queue, time.Minute, b.log)
	return b, nil
}

func defaultTransport(workers int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = workers + 4
	t.MaxIdleConns = 2 * (workers + 4)
	return t
}

// Name is the channel's engine name.
func (b *Bot) Name() string { return Name }

// Routes returns the callback handlers by ServeMux pattern.
func (b *Bot) Routes() map[string]http.Handler {
	return map[string]http.Handler{
		"POST " + PathAction: http.HandlerFunc(b.serveAction),
		"POST " + PathDialog: http.HandlerFunc(b.serveDialog),
	}
}

// Handler serves all Routes (tests and embedding).
func (b *Bot) Handler() http.Handler {
	mux := http.NewServeMux()
	for p, h := range b.Routes() {
		mux.Handle(p, h)
	}
	return mux
}

// Start learns the bot's own user ID and keeps the WebSocket connected in
// the background until ctx is done or Shutdown is called. It returns at
// once; a server that is down is retried with backoff.
func (b *Bot) Start(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	b.stop, b.done = cancel, make(chan struct{})
	go func() {
		defer close(b.done)
		if err := b.learnSelf(ctx); err != nil {
			return
		}
		_ = b.listen(ctx, b.onEvent)
	}()
	return nil
}

// learnSelf asks users/me for the bot's ID, retrying with backoff.
func (b *Bot) learnSelf(ctx context.Context) error {
	wait := backoffFirst
	for {
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		u, err := b.api.me(cctx)
		cancel()
		if err == nil && u.ID != "" {
			b.mu.Lock()
			b.botID = u.ID
			b.mu.Unlock()
			return nil
		}
		b.log.Warn("mattermost users/me failed; retrying", "err", err, "in", wait.String())
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, backoffMax)
	}
}

func (b *Bot) self() string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.botID
}

// Shutdown closes the WebSocket, then lets queued turns finish and held
// replies be shown within ctx; at ctx's deadline the rest are cut
// (dispatch.ErrCut) and the held replies abandoned.
func (b *Bot) Shutdown(ctx context.Context) error {
	if !b.closed.CompareAndSwap(false, true) {
		return nil
	}
	if b.stop != nil {
		b.stop()
		select {
		case <-b.done:
		case <-ctx.Done():
		}
	}
	err := b.pool.Shutdown(ctx)
	b.drainHeld(ctx)
	return err
}

// Close is Shutdown without a deadline.
func (b *Bot) Close() { _ = b.Shutdown(context.Background()) }

// allowed applies the guest rule and the team allowlist to a profile.
func (b *Bot) allowed(p profile) bool {
	if p.Guest && !b.o.Config.AllowGuests {
		return false
	}
	if b.teams == nil {
		return true
	}
	for _, t := range p.Teams {
		if b.teams[t] {
			return true
		}
	}
	return false
}

// claim marks key as used once (for ttl); false means it was used before.
// A store failure refuses: the caller then answers that it is busy, and
// nothing acts without its claim.
func (b *Bot) claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	_, err := b.o.Store.CompareAndSwap(ctx, "mm:once:"+key, 0, []byte{1}, ttl)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, store.ErrConflict) {
		return false, nil
	}
	return false, err
}

// rejected writes the authn.rejected audit event of a refused callback or
// person: a reason code and the Mattermost user ID, never the payload.
func (b *Bot) rejected(ctx context.Context, user, reason string) {
	e := audit.Event{Name: audit.NameAuthnRejected, Channel: Name, Outcome: audit.OutcomeDenied, Reason: reason}
	if user != "" {
		e.Actor = Name + ":" + user
	}
	if err := b.o.Audit.Write(ctx, e); err != nil {
		b.log.Error("mattermost audit write failed", "err", err)
	}
}

func (b *Bot) release(ctx context.Context, key string) {
	if err := b.o.Store.Delete(ctx, "mm:once:"+key); err != nil {
		b.log.Warn("mattermost claim release failed", "err", err)
	}
}
