package hold

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// TestLaterFreesTheCaller: a reply due later is shown by the Hold, not by
// the caller, which returns at once; a reply due now is the caller's.
func TestLaterFreesTheCaller(t *testing.T) {
	h := New(time.Second, nil, nil)
	var shown atomic.Int32
	show := func(context.Context) { shown.Add(1) }
	if h.Later(context.Background(), time.Time{}, show) || h.Later(context.Background(), time.Now().Add(-time.Second), show) {
		t.Fatal("a reply due now was held")
	}
	for range 50 {
		if !h.Later(context.Background(), time.Now().Add(20*time.Millisecond), show) {
			t.Fatal("a reply due later was not held")
		}
	}
	if n := shown.Load(); n != 0 {
		t.Fatalf("%d replies shown before their floor", n)
	}
	if err := h.Drain(context.Background()); err != nil || shown.Load() != 50 {
		t.Fatalf("drain: %v, shown %d", err, shown.Load())
	}
}

// TestDrainAbandonsAtItsDeadline: replies far from due are dropped when
// the shutdown budget ends, and Drain says so.
func TestDrainAbandonsAtItsDeadline(t *testing.T) {
	h := New(time.Second, nil, nil)
	var shown atomic.Int32
	h.Later(context.Background(), time.Now().Add(time.Hour), func(context.Context) { shown.Add(1) })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.Drain(ctx); err == nil || shown.Load() != 0 {
		t.Fatalf("drain: %v, shown %d", err, shown.Load())
	}
}

// TestFullHoldWaitsOnTheCaller: beyond Max, the caller waits the floor out
// and shows the reply itself.
func TestFullHoldWaitsOnTheCaller(t *testing.T) {
	h := New(time.Second, nil, nil)
	for range Max {
		h.slots <- struct{}{}
	}
	at := time.Now().Add(30 * time.Millisecond)
	if h.Later(context.Background(), at, func(context.Context) { t.Error("a full hold held a reply") }) {
		t.Fatal("held beyond Max")
	}
	if time.Now().Before(at) {
		t.Fatal("the caller did not wait out the floor")
	}
}

// TestPanicInAHeldReplyIsContained: a panicking reply does not take the
// process down, and its slot is given back.
func TestPanicInAHeldReplyIsContained(t *testing.T) {
	h := New(time.Second, nil, nil)
	h.Later(context.Background(), time.Now().Add(time.Millisecond), func(context.Context) { panic("boom") })
	if err := h.Drain(context.Background()); err != nil || len(h.slots) != 0 {
		t.Fatalf("drain %v, slots %d", err, len(h.slots))
	}
}
