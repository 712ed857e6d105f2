// Package engine runs resetbot's conversations: one turn at a time, for every
// channel, knowing no channel and no backend.
//
// A turn is: deduplicate the delivery → lock the session → load it → rebuild
// the flow's looplab/fsm machine at the stored state → let the state's step
// apply the input and name an event → let the FSM table decide the next state →
// run automatic steps and prompt → persist with compare-and-swap → return
// neutral outputs. Adapters (Slack, Teams, Twilio, console) translate platform
// events into Turns and render the Reply; flows (package flows) define the
// conversations.
package engine

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

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
)

// Options configure an Engine. Store and Flows are required.
type Options struct {
	Store store.Store
	Flows []*Flow
	Audit audit.Sink
	Log   *slog.Logger
	// Clock and Rand default to time.Now and crypto/rand.
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
	// OnTurn, if set, observes every finished turn (metrics). It must not
	// block and sees no user input.
	OnTurn func(channel string, r Reply, took time.Duration)
}

// Engine runs flows. It is safe for concurrent use; all state is in the Store.
type Engine struct {
	opt   Options
	flows map[string]*Flow
	all   []*Flow
	order []*Flow // the menu: flows that are not hidden
	voice map[string]bool
}

// New checks every flow table and returns an Engine.
func New(opt Options) (*Engine, error) {
	if opt.Store == nil {
		return nil, errors.New("engine: a store is required")
	}
	if opt.Clock == nil {
		opt.Clock = time.Now
	}
	if opt.Rand == nil {
		opt.Rand = rand.Reader
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Audit == nil {
		opt.Audit = audit.Discard
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
	e := &Engine{opt: opt, flows: map[string]*Flow{}, voice: map[string]bool{}}
	for _, f := range opt.Flows {
		if err := f.Validate(); err != nil {
			return nil, err
		}
		if _, dup := e.flows[f.Name]; dup {
			return nil, fmt.Errorf("engine: flow %q registered twice", f.Name)
		}
		e.flows[f.Name] = f
		e.all = append(e.all, f)
		if !f.Hidden {
			e.order = append(e.order, f)
		}
	}
	for _, c := range opt.VoiceChannels {
		e.voice[c] = true
	}
	return e, nil
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

func sessionKey(t *Turn) string { return "sess:" + t.Channel + ":" + t.ChannelUser }
func lockKey(t *Turn) string    { return "lock:" + t.Channel + ":" + t.ChannelUser }
func deliveryKey(t *Turn) string {
	return "dlv:" + t.Channel + ":" + t.DeliveryID
}

// Handle runs one turn and always returns a reply the adapter can render.
// Infrastructure failures become a catalogued error with a reference ID; the
// cause is logged with the same reference.
func (e *Engine) Handle(ctx context.Context, t Turn) Reply {
	started := time.Now()
	ref := newRef(e.opt.Rand)
	if t.Channel == "" || t.ChannelUser == "" {
		return e.fail(ctx, &t, ref, nil, errors.New("engine: turn without channel identity"))
	}
	// Claiming the delivery and taking the session lock are independent
	// round trips; on a networked store they run side by side.
	var (
		wg       sync.WaitGroup
		dupReply Reply
		dup      bool
	)
	if t.DeliveryID != "" {
		wg.Go(func() { dupReply, dup = e.claimDelivery(ctx, &t, ref) })
	}
	locked, reply := e.lock(ctx, &t, ref)
	wg.Wait()
	if dup {
		if locked {
			e.unlock(ctx, &t, ref)
		}
		return dupReply
	}
	var floor time.Duration
	if locked {
		floor, reply = e.safeTurn(ctx, &t, ref)
	}
	// Storing the reply for repeated deliveries and releasing the lock are
	// independent too. A turn refused because the session was busy did
	// nothing: its claim is dropped so the platform's retry is handled.
	switch {
	case t.DeliveryID != "" && locked:
		wg.Go(func() { e.rememberDelivery(ctx, &t, reply) })
	case t.DeliveryID != "":
		wg.Go(func() { e.forgetDelivery(ctx, &t) })
	}
	if locked {
		e.unlock(ctx, &t, ref)
	}
	wg.Wait()
	if wait := floor - time.Since(started); wait > 0 {
		e.opt.Sleep(ctx, wait)
	}
	if e.opt.OnTurn != nil {
		e.opt.OnTurn(t.Channel, reply, time.Since(started))
	}
	return reply
}

// safeTurn runs the turn and turns a panic in a step into the catalogued
// error, so the lock is still released and the delivery still answered.
func (e *Engine) safeTurn(ctx context.Context, t *Turn, ref string) (floor time.Duration, r Reply) {
	defer func() {
		if p := recover(); p != nil {
			// The panic value is not logged: it could quote user input.
			floor, r = 0, e.fail(ctx, t, ref, nil, fmt.Errorf("panic in a step (%T)", p))
		}
	}()
	return e.turn(ctx, t, ref)
}

// lock takes the session's lock. Two turns at once for one session (a double
// click, a retry racing the original) get MsgBusy instead of acting twice.
func (e *Engine) lock(ctx context.Context, t *Turn, ref string) (bool, Reply) {
	_, err := e.opt.Store.CompareAndSwap(ctx, lockKey(t), 0, []byte(ref), 30*time.Second)
	switch {
	case err == nil:
		return true, Reply{}
	case errors.Is(err, store.ErrConflict):
		e.audit(ctx, t, nil, ref, audit.Event{Name: "flow.busy"})
		return false, Reply{Ref: ref, Outputs: []Output{{MessageID: MsgBusy}}}
	}
	return false, e.fail(ctx, t, ref, nil, fmt.Errorf("lock session: %w", err))
}

// unlock releases the session's lock with a fresh context: the lock must go
// even when the turn's context is done. A lock that cannot be deleted expires.
func (e *Engine) unlock(ctx context.Context, t *Turn, ref string) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := e.opt.Store.Delete(dctx, lockKey(t)); err != nil {
		e.opt.Log.Warn("session lock not released; it expires by itself", "ref", ref, "err", err)
	}
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
	if err := e.opt.Audit.Write(ctx, ev); err != nil {
		e.opt.Log.Error("audit write failed", "ref", ref, "event", ev.Name, "err", err)
	}
}

// VarUser is the session variable holding the directory user key once
// identified; the engine copies it into audit records.
const VarUser = "u"
