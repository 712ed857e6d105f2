package twilio_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/engine"
	ivr "github.com/resetbot/resetbot/ivr/twilio"
)

// slowEngine delays the answer of the first turn of one delivery.
type slowEngine struct {
	e     ivr.Engine
	slow  atomic.Value // delivery ID to delay
	delay time.Duration
	runs  atomic.Int32
}

func (s *slowEngine) Handle(ctx context.Context, t engine.Turn) engine.Reply {
	r := s.e.Handle(ctx, t)
	if !r.Duplicate {
		s.runs.Add(1)
	}
	// The turn has acted; its answer is late (the engine's own waiting for
	// a turn in flight is tested in core/engine).
	if id, _ := s.slow.Load().(string); id != "" && id == t.DeliveryID && s.slow.CompareAndSwap(id, "") {
		time.Sleep(s.delay)
	}
	return r
}

// TestSlowTurnIsHeldAndResumed: a turn slower than the budget is answered
// in time with a hold prompt and a redirect; the redirect gets that turn's
// reply, and the turn acted once.
func TestSlowTurnIsHeldAndResumed(t *testing.T) {
	h := newHarness(t)
	slow := &slowEngine{e: h.a.Engine, delay: 600 * time.Millisecond}
	var err error
	h.ivr, err = ivr.New(slow, h.a.Messages, ivr.Config{PublicURL: public, AccountSID: phoneOf(h.a.Config).AccountSID,
		AuthToken: phoneOf(h.a.Config).AuthToken, Languages: []string{"en", "es"}, TurnBudget: 150 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	c := h.call("CA900")
	c.start("1")
	c.press("1")
	c.press("10041")
	seq := c.next[strings.Index(c.next, "n=")+2:]
	seq = seq[:strings.IndexAny(seq+"&", "&")]
	slow.slow.Store("CA900:" + seq)
	before := slow.runs.Load()
	started := time.Now()
	held := c.press("2")
	if took := time.Since(started); took > 500*time.Millisecond {
		t.Fatalf("held answer took %v", took)
	}
	if !isHold(held) {
		t.Fatalf("not a hold: %s", c.h.twiml[len(c.h.twiml)-1])
	}
	// A key pressed during the hold prompt interrupts it (barge-in) and is
	// not taken as an answer: the resumed turn is the one of the keys before.
	resumed := c.do(strings.TrimPrefix(held.Gather.Action, public), c.form("Digits", "7"))
	if resumed.Gather == nil || !strings.Contains(strings.ToLower(resumed.Text()), "code") {
		t.Fatalf("resumed answer: %s", c.h.twiml[len(c.h.twiml)-1])
	}
	h.waitSends(1)
	time.Sleep(100 * time.Millisecond)
	if n := h.fake.Sends(); n != 1 {
		t.Fatalf("%d codes sent, want 1", n)
	}
	if n := slow.runs.Load() - before; n != 1 {
		t.Fatalf("the key press ran %d times", n)
	}
}

// downEngine is a store outage: while down, every turn does nothing and
// asks to be delivered again (Reply.Retry), as the engine does when the
// store cannot be reached.
type downEngine struct {
	e    ivr.Engine
	down atomic.Bool
}

func (d *downEngine) Handle(ctx context.Context, t engine.Turn) engine.Reply {
	if d.down.Load() {
		return engine.Reply{Ref: "R1", Retry: true, Outputs: []engine.Output{{MessageID: engine.MsgError, Args: map[string]string{"ref": "R1"}}}}
	}
	return d.e.Handle(ctx, t)
}

// TestStoreDownHoldsTheKeys: a key press that arrives while the store is
// down is answered with the hold prompt and a redirect, never with the
// fallback as if the key were a wrong menu choice; the redirect, once the
// store is back, runs the turn with the key that was pressed.
func TestStoreDownHoldsTheKeys(t *testing.T) {
	h := newHarness(t)
	d := &downEngine{e: h.a.Engine}
	var err error
	h.ivr, err = ivr.New(d, h.a.Messages, ivr.Config{PublicURL: public, AccountSID: phoneOf(h.a.Config).AccountSID,
		AuthToken: phoneOf(h.a.Config).AuthToken, Languages: []string{"en", "es"}, TurnBudget: 150 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	c := h.call("CA901")
	c.start("1")
	c.press("1")
	c.press("10041")
	d.down.Store(true)
	held := c.press("2")
	if !isHold(held) || strings.Contains(held.Text(), "not one of the options") || strings.Contains(held.Text(), "went wrong") {
		t.Fatalf("store down: not a hold: %s", c.h.twiml[len(c.h.twiml)-1])
	}
	d.down.Store(false)
	resumed := c.do(strings.TrimPrefix(held.Redirect.URL, public), c.form())
	if resumed.Gather == nil || !strings.Contains(strings.ToLower(resumed.Text()), "code") {
		t.Fatalf("resumed answer: %s", c.h.twiml[len(c.h.twiml)-1])
	}
	h.waitSends(1)
	if strings.Contains(held.Redirect.URL, "Digits") {
		t.Fatalf("the key went into the redirect URL: %s", held.Redirect.URL)
	}
}

// isHold reports whether d is the hold answer: the hold prompt inside a
// gather (a key interrupts it) that resumes where the redirect would.
func isHold(d TwiML) bool {
	return d.Redirect != nil && d.Gather != nil && d.Gather.Action == d.Redirect.URL &&
		len(d.Says()) == 1 && strings.Contains(d.Text(), "One moment") && len(d.Say) == 0
}
