// Package engine runs resetbot's conversations: one turn at a time, for every
// channel, knowing no channel and no backend.
//
// A turn is one pipeline (Run): acquire (claim the delivery, lease and load
// the session in one store step) → step (let the state's step apply the
// input and name an event, let the flow's looplab/fsm table decide the next
// state, run automatic steps and prompt) → commit (save, record the reply,
// release, in one more store step) → reply with neutral outputs. Adapters (Slack, Teams, Twilio, console) translate platform
// events into Turns and render the Reply; flows (package flows) define the
// conversations.
package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/store"
)

// Catalogued message IDs the engine itself emits.
const (
	MsgError     = "common.error"
	MsgBusy      = "common.busy"
	MsgExpired   = "common.expired"
	MsgMenu      = "menu.prompt"
	MsgNoInput   = "common.no_input"
	MsgTooLong   = "common.too_long"
	MsgGoodbye   = "common.goodbye"
	MsgTooMany   = "common.too_many_turns"
	MsgBadChoice = "common.invalid_input"
	MsgStale     = "common.stale"
	MsgHelp      = "common.help"
	// MsgLanguage confirms a switch of language, in the new language.
	MsgLanguage = "common.language"
)

// Options configure an Engine. Store and Flows are required.
type Options struct {
	Store store.Store
	Flows []*Flow
	Audit audit.Sink
	Log   *slog.Logger
	// Clock and Rand default to time.Now and crypto/rand (read in bulk).
	Clock func() time.Time
	Rand  io.Reader
	// IdleTimeout ends a session nobody touched (default 15 min);
	// AbsoluteTimeout ends any session (default 30 min).
	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
	// VoiceChannels names the channels rendered for the ear (default "voice").
	VoiceChannels []string
	// MaxInputBytes bounds typed input (default 512).
	MaxInputBytes int
	// MaxTurns bounds one conversation (default 60).
	MaxTurns int
	// Sleep waits for d or until ctx ends; tests replace it.
	Sleep func(ctx context.Context, d time.Duration)
	// Lease is how long a turn holds its session and delivery claim without
	// renewing (default 5 s; renewed every third of it while a step runs),
	// so the retry of a crashed turn runs within that time.
	Lease time.Duration
	// ReplayKeep is how long a turn's reply is kept for repeated deliveries
	// (default 10 min: Slack's and Twilio's retries come well within it).
	ReplayKeep time.Duration
	// CloseKeep is how long a closed conversation (Turn.Close) stays
	// closed (default 2 h).
	CloseKeep time.Duration
	// Ratings asks for a satisfaction rating after flows completed in a
	// state with Step.Rate (rate.go).
	Ratings bool
	// DuplicateWait bounds how long a repeated delivery waits for the reply
	// of the same delivery still running elsewhere (default 5 s, and never
	// past ctx's deadline); then it is answered MsgBusy.
	DuplicateWait time.Duration
	// Words are the cancel, agent, help and language-switch words and the
	// flow keywords of every language (from the message catalogs).
	Words Words
	// Supports reports whether a locale has a message catalog; a turn in a
	// locale it refuses is served in the default language, and the locale
	// is logged once. Nil accepts every locale.
	Supports func(locale string) bool
	// OnTurn, if set, observes every finished turn (metrics). It must not
	// block and sees no user input.
	OnTurn func(channel string, r Reply, took time.Duration)
	// Tracer, if set, gets an "engine.turn" span per turn and an
	// "engine.step" span around the flow's step (trace.go).
	Tracer trace.Tracer
}

// Engine runs flows. It is safe for concurrent use; all state is in the Store.
type Engine struct {
	opt   Options
	turns store.Turns
	// storeFailed is when a turn last found the store unavailable (Unix ns).
	storeFailed atomic.Int64
	flows       map[string]*Flow
	all         []*Flow
	order       []*Flow // the menu: flows that are not hidden
	// phrases are the keywords and catalog phrasings of each menu flow,
	// split into words once (byPhrase runs on every typed turn).
	phrases map[*Flow][][]string
	// moves are the flows' looplab/fsm machines, reused by fire.
	moves map[*Flow]*moves
	// menuChoices are the menu's choices, built once and shared by every
	// menu reply (readers only; its capacity is its length, so an append
	// copies).
	menuChoices []Choice
	// leases are idle *lease for keepLease.
	leases sync.Pool
	voice  map[string]bool
	// unsupported remembers the locales already logged as unsupported.
	unsupported sync.Map
}

// New checks every flow table and returns an Engine.
func New(opt Options) (*Engine, error) {
	if opt.Store == nil {
		return nil, errors.New("engine: a store is required")
	}
	turns, ok := opt.Store.(store.Turns)
	if !ok {
		return nil, fmt.Errorf("engine: store %T cannot run turns atomically (store.Turns)", opt.Store)
	}
	if opt.Clock == nil {
		opt.Clock = time.Now
	}
	if opt.Lease <= 0 {
		opt.Lease = 5 * time.Second
	}
	if opt.ReplayKeep <= 0 {
		opt.ReplayKeep = 10 * time.Minute
	}
	if opt.CloseKeep <= 0 {
		opt.CloseKeep = 2 * time.Hour
	}
	if opt.DuplicateWait <= 0 {
		opt.DuplicateWait = 5 * time.Second
	}
	if opt.Rand == nil {
		opt.Rand = newRandBuffer()
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Audit == nil {
		opt.Audit = audit.Discard
	}
	if opt.Tracer == nil {
		opt.Tracer = noop.NewTracerProvider().Tracer("")
	}
	if opt.IdleTimeout <= 0 {
		opt.IdleTimeout = 15 * time.Minute
	}
	if opt.AbsoluteTimeout <= 0 {
		opt.AbsoluteTimeout = 30 * time.Minute
	}
	if opt.MaxInputBytes <= 0 {
		opt.MaxInputBytes = 512
	}
	if opt.MaxTurns <= 0 {
		opt.MaxTurns = 60
	}
	if opt.Sleep == nil {
		opt.Sleep = sleepCtx
	}
	if len(opt.VoiceChannels) == 0 {
		opt.VoiceChannels = []string{"voice"}
	}
	e := &Engine{opt: opt, turns: turns, flows: map[string]*Flow{}, moves: map[*Flow]*moves{}, voice: map[string]bool{}}
	for _, f := range opt.Flows {
		if err := f.Validate(); err != nil {
			return nil, err
		}
		if _, dup := e.flows[f.Name]; dup {
			return nil, fmt.Errorf("engine: flow %q registered twice", f.Name)
		}
		e.flows[f.Name] = f
		e.moves[f] = newMoves(f)
		e.all = append(e.all, f)
		if !f.Hidden {
			e.order = append(e.order, f)
		}
	}
	e.menuChoices = make([]Choice, 0, len(e.order))
	for _, f := range e.order {
		e.menuChoices = append(e.menuChoices, Choice{ID: "flow:" + f.Name, MessageID: f.MessageID, ChatOnly: f.ChatOnly})
	}
	for _, c := range opt.VoiceChannels {
		e.voice[c] = true
	}
	e.phrases = make(map[*Flow][][]string, len(e.order))
	for _, f := range e.order {
		for _, k := range e.keywords(f) {
			e.phrases[f] = append(e.phrases[f], tokens(k))
		}
	}
	return e, nil
}

// storeRecheck is how long after a store failure StoreUp reports false; the
// next turn after it tries the store again.
const storeRecheck = time.Second

// StoreUp reports whether no turn found the store unavailable within the last
// second. Adapters that acknowledge before the turn runs (Slack) answer 503
// while it is false, so the platform redelivers instead of being told "ok"
// and then shown an error.
func (e *Engine) StoreUp() bool {
	return time.Since(time.Unix(0, e.storeFailed.Load())) > storeRecheck
}

// noteStore records a store failure for StoreUp; a turn cancelled by its
// caller says nothing about the store (a deadline that passed does).
func (e *Engine) noteStore(ctx context.Context, err error) {
	if !errors.Is(ctx.Err(), context.Canceled) && errors.Is(err, store.ErrUnavailable) {
		e.storeFailed.Store(time.Now().UnixNano())
	}
}

// Flows returns every registered flow, hidden ones included, in
// registration order.
func (e *Engine) Flows() []*Flow { return e.all }

// IsVoice reports whether a channel is rendered for the ear.
func (e *Engine) IsVoice(channel string) bool { return e.voice[channel] }

func sleepCtx(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// SessionKey is the store key of the session of (channel, user). The session,
// its lease and its delivery claims share the {hash tag}, so one Redis
// Cluster slot holds a conversation and a turn is one script call.
func SessionKey(channel, user string) string { return "sess:" + convTag(channel, user) }

func convTag(channel, user string) string { return "{" + channel + ":" + user + "}" }

// turnKeys names the records one turn touches; the owner is the turn's ref,
// fresh for every attempt.
//
// The keys are cut from one string, "sess:{c:u}lock:{c:u}dlv:{c:u}:id",
// built in one allocation instead of four.
func turnKeys(t *Turn, ref string) store.TurnKeys {
	tag := len(t.Channel) + len(t.ChannelUser) + 3
	n := len("sess:") + len("lock:") + 2*tag
	if t.DeliveryID != "" {
		n += len("dlv:") + tag + 1 + len(t.DeliveryID)
	}
	var b strings.Builder
	b.Grow(n)
	for _, p := range [3]string{"sess:", "lock:", "dlv:"} {
		if p == "dlv:" && t.DeliveryID == "" {
			break
		}
		b.WriteString(p)
		b.WriteByte('{')
		b.WriteString(t.Channel)
		b.WriteByte(':')
		b.WriteString(t.ChannelUser)
		b.WriteByte('}')
	}
	if t.DeliveryID != "" {
		b.WriteByte(':')
		b.WriteString(t.DeliveryID)
	}
	all := b.String()
	k := store.TurnKeys{Session: all[:5+tag], Lock: all[5+tag : 10+2*tag], Owner: ref}
	if t.DeliveryID != "" {
		k.Delivery = all[10+2*tag:]
	}
	return k
}

// Handle runs one turn (Run) and waits out the turn's timing floor before
// returning. Adapters whose workers must not wait use Run and delay sending
// the reply until Reply.NotBefore instead.
func (e *Engine) Handle(ctx context.Context, t Turn) Reply {
	r := e.Run(ctx, t)
	if wait := time.Until(r.NotBefore); wait > 0 {
		e.opt.Sleep(ctx, wait)
	}
	return r
}

// Run runs one turn as one transaction and always returns a reply the
// adapter can render:
//
//  1. acquire: claim the delivery, take the session lease and load the
//     session, in one store step (a repeated delivery gets the first one's
//     reply instead, and one in flight is waited for);
//  2. step: let the flow handle the input, the lease renewed while it runs;
//  3. commit: save or delete the session, record the reply for repeated
//     deliveries and release the lease, in one more store step;
//  4. reply, stamped with the time before which it must not be shown.
//
// Infrastructure failures become a catalogued error with a reference ID; the
// cause is logged with the same reference.
func (e *Engine) Run(ctx context.Context, t Turn) (r Reply) {
	started := time.Now()
	ref := newRef(e.opt.Rand)
	ctx, span := e.startTurn(ctx, &t)
	defer func() { endTurn(span, r) }()
	switch {
	case t.Channel == "" || t.ChannelUser == "":
		r = e.fail(ctx, &t, ref, nil, errors.New("engine: turn without channel identity"))
	case t.Input.Value.Len() > e.opt.MaxInputBytes || t.Input.Confirm.Len() > e.opt.MaxInputBytes:
		// Refused before touching the store: it changes nothing.
		e.audit(ctx, &t, nil, ref, audit.Event{Name: "input.rejected", Reason: "too_long"})
		r = Reply{Ref: ref, Outputs: []Output{{MessageID: MsgTooLong}}}
	default:
		k := turnKeys(&t, ref)
		rec, early, ok := e.acquire(ctx, &t, k)
		if !ok {
			r = early
			break
		}
		stepCtx, held := e.keepLease(ctx, k)
		stepCtx, stepSpan := e.startStep(stepCtx)
		res := e.safeStep(stepCtx, &t, ref, rec)
		stepSpan.End()
		if res.failed && ctx.Err() != nil {
			res = result{base: res.base, reply: res.reply, cut: true}
		}
		if t.Close {
			res.op, res.value, res.ttl = store.SessionPut, closedMark, e.opt.CloseKeep
		}
		// The lease is kept while the commit is retried across a failover,
		// so that no retry of this delivery runs the step again meanwhile.
		r = e.commit(ctx, &t, k, res)
		held.release()
		r.NotBefore = started.Add(res.floor)
	}
	if e.opt.OnTurn != nil {
		e.opt.OnTurn(t.Channel, r, time.Since(started))
	}
	return r
}

// safeStep runs the step and turns a panic in a flow into the catalogued
// error, so the lease is still released and the delivery still answered.
func (e *Engine) safeStep(ctx context.Context, t *Turn, ref string, rec store.Record) (res result) {
	defer func() {
		if p := recover(); p != nil {
			// The panic value is not logged: it could quote user input.
			res = result{base: rec.Version, failed: true, reply: e.fail(ctx, t, ref, nil, fmt.Errorf("panic in a step (%T)", p))}
		}
	}()
	return e.step(ctx, t, ref, rec)
}

// fail answers with the catalogued error and logs the cause under ref.
func (e *Engine) fail(ctx context.Context, t *Turn, ref string, s *Session, err error) Reply {
	e.opt.Log.Error("turn failed", "ref", ref, "channel", t.Channel, "err", err)
	e.audit(ctx, t, s, ref, audit.Event{Name: "flow.error", Outcome: "error"})
	r := Reply{Ref: ref, Outputs: []Output{{MessageID: MsgError, Args: map[string]string{"ref": ref}}}}
	if s != nil {
		r.Flow, r.State = s.Flow, s.State
	}
	return r
}

// audit writes an audit event with the turn's context filled in.
func (e *Engine) audit(ctx context.Context, t *Turn, s *Session, ref string, ev audit.Event) {
	e.write(ctx, e.event(t, s, ref, ev))
}

// event fills in an audit event's turn context.
func (e *Engine) event(t *Turn, s *Session, ref string, ev audit.Event) audit.Event {
	ev.Time = e.opt.Clock().UTC()
	ev.Ref = ref
	ev.Channel = t.Channel
	if s != nil {
		ev.Session = s.Hash()
		if ev.Flow == "" {
			ev.Flow = s.Flow
		}
		if ev.Actor == "" {
			ev.Actor = s.Get(VarUser)
		}
	}
	if ev.Actor == "" {
		ev.Actor = t.Channel + ":" + t.ChannelUser
	}
	return ev
}

// write sends a filled-in audit event to the sink.
func (e *Engine) write(ctx context.Context, ev audit.Event) {
	if err := e.opt.Audit.Write(ctx, ev); err != nil {
		e.opt.Log.Error("audit write failed", "ref", ev.Ref, "event", ev.Name, "err", err)
	}
}

// VarUser is the session variable holding the directory user key once
// identified; the engine copies it into audit records.
const VarUser = "u"
