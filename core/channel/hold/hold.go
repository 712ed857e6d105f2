// Package hold shows a chat reply at its timing floor without holding the
// worker that ran the turn.
//
// The engine gives every reply that must not come sooner a NotBefore (the
// anti-enumeration floor: an unknown user and a wrong code answer as late as
// a known one). Waiting it out inside a pool worker capped a replica at
// workers/floor login turns a second whatever its CPU; a Hold waits on a
// timer instead, so the worker takes the next turn meanwhile.
package hold

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"
)

// Hold tracks the replies held back for their floor. It is bounded: beyond
// Max held replies, Later waits on the caller's goroutine, as before.
type Hold struct {
	slots   chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	pending map[*held]struct{} // replies whose timer has not fired
	timeout time.Duration
	now     func() time.Time
	log     *slog.Logger
}

// held is one reply waiting on its timer (no goroutine while it waits). It
// is not zero-sized: pointers to distinct zero-sized values may be equal.
type held struct{ _ byte }

// Max is how many replies a Hold keeps back at once.
const Max = 1024

// New returns a Hold whose replies get timeout to be shown (their platform
// calls), on the clock now (time.Now when nil), logging a panic in a held
// reply to log.
func New(timeout time.Duration, now func() time.Time, log *slog.Logger) *Hold {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Hold{slots: make(chan struct{}, Max), pending: map[*held]struct{}{}, timeout: timeout, now: now, log: log}
}

// Later arranges for show to run at at and returns true; it returns false
// when the reply is due now, or once it has waited out the floor itself
// because Max replies are held already, and the caller then shows it. show
// gets ctx's values without its cancellation (the worker's context ends
// with its job), bounded by the Hold's timeout.
func (h *Hold) Later(ctx context.Context, at time.Time, show func(context.Context)) bool {
	wait := at.Sub(h.now())
	if at.IsZero() || wait <= 0 {
		return false
	}
	select {
	case h.slots <- struct{}{}:
	default:
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		return false
	}
	h.wg.Add(1)
	e := &held{}
	h.mu.Lock()
	h.pending[e] = struct{}{}
	h.mu.Unlock()
	time.AfterFunc(wait, func() { h.fire(ctx, e, show) })
	return true
}

// take removes e from the pending replies; whoever takes it (its timer, or
// Drain abandoning it) releases its slot and its place in the wait group.
func (h *Hold) take(e *held) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.pending[e]; !ok {
		return false
	}
	delete(h.pending, e)
	return true
}

func (h *Hold) release() {
	<-h.slots
	h.wg.Done()
}

func (h *Hold) fire(ctx context.Context, e *held, show func(context.Context)) {
	if !h.take(e) {
		return // abandoned at shutdown
	}
	defer h.release()
	defer func() {
		if p := recover(); p != nil {
			// The panic value is not logged: it might quote user input.
			h.log.Error("held reply panic", "panic", fmt.Sprintf("%T", p), "stack", string(debug.Stack()))
		}
	}()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.timeout)
	defer cancel()
	show(sctx)
}

// Drain waits, within ctx, for the held replies to be shown (shutdown). At
// ctx's end those not yet due are abandoned (their turns committed; only
// the reply is lost), replies being shown are left to finish on their own,
// and ctx's error is returned.
func (h *Hold) Drain(ctx context.Context) error {
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		h.mu.Lock()
		n := len(h.pending)
		clear(h.pending)
		h.mu.Unlock()
		for range n {
			h.release()
		}
		return ctx.Err()
	}
}
