package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/store"
)

// commitTimeout bounds the commit, which runs even when the turn's context
// has ended (a caller that hung up, a shutdown): the lease and the claim must
// be released and the outcome recorded so the platform's retry is answered.
// It outlasts a Redis failover (detection, promotion, the replica-ack grace:
// about 8 s), because a step that ran has acted (a code consumed, a password
// reset): its commit must land, not the step run again on what it changed.
// The platform meanwhile gets its "not yet" (Slack 503, a phone hold).
const commitTimeout = 10 * time.Second

// result is what a step hands to the commit.
type result struct {
	reply Reply
	// op, base and value say how the session record changes: base is its
	// version when the turn acquired it (0: none).
	op    store.SessionOp
	base  uint64
	value []byte
	ttl   time.Duration // 0: the session default
	floor time.Duration
	// after are audit events true only once the commit holds (flow.end).
	after []audit.Event
	// cut is a step that failed after its context ended (a shutdown, the
	// caller's deadline): the commit keeps the session and drops the
	// delivery claim instead of recording the error, so a retry runs.
	cut bool
	// failed is a step that ended in the catalogued error.
	failed bool
}

// acquire claims the delivery, takes the session lease and loads the session
// in one store step. ok is false when the turn must not run; r is then the
// answer: the recorded reply of a repeated delivery (waiting, bounded, for
// one still in flight), or MsgBusy while another turn holds the session.
func (e *Engine) acquire(ctx context.Context, t *Turn, k store.TurnKeys) (rec store.Record, r Reply, ok bool) {
	until := time.Now().Add(e.opt.DuplicateWait)
	if d, has := ctx.Deadline(); has && d.Before(until) {
		until = d
	}
	actx := ctx
	if !t.StartBy.IsZero() {
		var cancel context.CancelFunc
		actx, cancel = context.WithDeadline(ctx, t.StartBy)
		defer cancel()
	}
	pause := 2 * time.Millisecond
	for {
		a, err := e.turns.AcquireTurn(actx, k, e.opt.Lease)
		if err != nil {
			e.noteStore(actx, err)
			r := e.fail(ctx, t, k.Owner, nil, fmt.Errorf("acquire turn: %w", err))
			r.Retry = true
			return rec, r, false
		}
		switch a.State {
		case store.TurnAcquired:
			return a.Session, Reply{}, true
		case store.TurnDone:
			e.audit(ctx, t, nil, k.Owner, audit.Event{Name: "flow.duplicate"})
			return rec, e.replay(ctx, t, k.Owner, a.Outcome), false
		case store.TurnBusy:
			// Nothing was claimed, so the platform's retry of this delivery
			// runs: adapters that can have it redelivered do (a lease left
			// by a turn cut in a failover lapses within seconds), instead
			// of losing the input behind a "busy" reply.
			e.audit(ctx, t, nil, k.Owner, audit.Event{Name: "flow.busy"})
			return rec, Reply{Ref: k.Owner, Outputs: []Output{{MessageID: MsgBusy}}, Retry: true}, false
		}
		// TurnRunning: the same delivery is running elsewhere; its reply is
		// this one's too.
		if t.NoReplay || time.Now().Add(pause).After(until) {
			e.audit(ctx, t, nil, k.Owner, audit.Event{Name: "flow.duplicate", Reason: "in_flight"})
			return rec, Reply{Ref: k.Owner, Duplicate: true, Retry: true, Outputs: []Output{{MessageID: MsgBusy}}}, false
		}
		sleepCtx(ctx, pause)
		pause = min(2*pause, 100*time.Millisecond)
	}
}

// replay decodes a recorded outcome. Attachments were never recorded
// (json:"-"): a replay never shows a QR code twice.
func (e *Engine) replay(ctx context.Context, t *Turn, ref string, outcome []byte) Reply {
	if len(outcome) == 0 {
		return Reply{Ref: ref, Duplicate: true}
	}
	var r Reply
	if err := json.Unmarshal(outcome, &r); err != nil {
		return e.fail(ctx, t, ref, nil, fmt.Errorf("decode recorded reply: %w", err))
	}
	r.Duplicate = true
	return r
}

// outcome is what the commit records for repeated deliveries: the compact
// reply, or nothing but the mark for adapters that never replay.
func (e *Engine) outcome(t *Turn, r Reply) []byte {
	if t.NoReplay {
		return []byte{}
	}
	b, err := json.Marshal(r)
	if err != nil {
		return []byte{}
	}
	return b
}

// keepLease renews the turn's lease every third of its length while a step
// runs (a slow directory), so that it lapses only when this process stops.
// The returned context ends when the lease is lost to another owner; release
// the lease when the turn is over. A quick turn never renews: the timer has
// not fired when it is released.
//
// The lease and its timer are reused from turn to turn (a timer, a closure
// and its state were a tenth of a quick turn's allocations): one goes back
// to the pool only when stopping its timer prevented a renewal, so no
// renewal of a finished turn can still be running on it.
func (e *Engine) keepLease(ctx context.Context, k store.TurnKeys) (context.Context, *lease) {
	ctx, cancel := context.WithCancelCause(ctx)
	l, _ := e.leases.Get().(*lease)
	if l == nil {
		l = &lease{e: e}
		l.timer = time.AfterFunc(time.Hour, l.renew)
		l.timer.Stop()
	}
	l.mu.Lock()
	l.k, l.ctx, l.cancel, l.stopped = k, ctx, cancel, false
	l.timer.Reset(e.opt.Lease / 3)
	l.mu.Unlock()
	return ctx, l
}

// lease is one turn's lease renewal (keepLease). Its fields other than e and
// timer belong to the turn between keepLease and release, under mu.
type lease struct {
	e       *Engine
	timer   *time.Timer
	mu      sync.Mutex
	k       store.TurnKeys
	ctx     context.Context
	cancel  context.CancelCauseFunc
	stopped bool
}

// renew runs when the timer fires: it renews the lease, ends the turn's
// context when the lease was lost, and arms the next renewal.
func (l *lease) renew() {
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		return
	}
	e, k, ctx, cancel := l.e, l.k, l.ctx, l.cancel
	l.mu.Unlock()
	every := e.opt.Lease / 3
	rctx, done := context.WithTimeout(context.WithoutCancel(ctx), every)
	err := e.turns.RenewTurn(rctx, k, e.opt.Lease)
	done()
	if errors.Is(err, store.ErrLeaseLost) {
		cancel(store.ErrLeaseLost)
		return
	}
	if err != nil {
		e.opt.Log.Warn("turn lease not renewed", "ref", k.Owner, "err", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.stopped {
		l.timer.Reset(every)
	}
}

// release stops the renewals and ends the turn's context. The caller must
// not use l afterwards: it may already serve another turn.
func (l *lease) release() {
	l.mu.Lock()
	l.stopped = true
	// Stop reports true when no renewal started since the timer was last
	// armed, and the last one that ran re-armed it under mu before
	// finishing: nothing else can touch l.
	reuse := l.timer.Stop()
	cancel := l.cancel
	if reuse {
		l.k, l.ctx, l.cancel = store.TurnKeys{}, nil, nil
	}
	l.mu.Unlock()
	cancel(nil)
	if reuse {
		l.e.leases.Put(l)
	}
}

// commit saves the step's result, records the reply for repeated deliveries
// and releases the lease in one store step.
func (e *Engine) commit(ctx context.Context, t *Turn, k store.TurnKeys, res result) Reply {
	c := store.Commit{Op: res.op, Expect: res.base, Value: res.value,
		// The record outlives the idle timeout by a grace period so that a
		// late reply is told "your session expired" instead of a blank menu.
		TTL: e.opt.IdleTimeout + expiryGrace}
	if res.ttl > 0 {
		c.TTL = res.ttl
	}
	if k.Delivery != "" && !res.cut {
		c.Outcome, c.Keep = e.outcome(t, res.reply), e.opt.ReplayKeep
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	defer cancel()
	err := e.turns.CommitTurn(cctx, k, c)
	switch {
	case err == nil:
		for _, ev := range res.after {
			e.write(ctx, ev)
		}
		res.reply.Retry = res.cut
		return res.reply
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrLeaseLost):
		reason := "version_conflict"
		if errors.Is(err, store.ErrLeaseLost) {
			reason = "lease_lost"
		}
		e.audit(ctx, t, nil, k.Owner, audit.Event{Name: "flow.busy", Reason: reason})
		// Nothing of this turn was saved: the platform's redelivery runs it
		// again on the session as it now is (after a failover, as the new
		// master has it), rather than the input being dropped.
		return Reply{Ref: k.Owner, Outputs: []Output{{MessageID: MsgBusy}}, Retry: true}
	}
	e.noteStore(cctx, err)
	r := e.fail(ctx, t, k.Owner, nil, fmt.Errorf("commit turn: %w", err))
	r.Retry = true
	return r
}
