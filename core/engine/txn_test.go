package engine_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/store"
	"github.com/resetbot/resetbot/core/store/memory"
)

// realFixture is an engine on a memory store with real time and a short
// lease, for the tests where leases must lapse or be renewed.
func realFixture(t *testing.T, lease time.Duration, st store.Store) (*engine.Engine, *testFlow) {
	t.Helper()
	tf := &testFlow{}
	eng, err := engine.New(engine.Options{Store: st, Flows: []*engine.Flow{tf.flow()}, Lease: lease})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	eng.Handle(ctx, turn(text("test")))
	eng.Handle(ctx, turn(engine.Input{Kind: engine.InputChoice, Choice: "a"}))
	return eng, tf
}

// Identical deliveries arriving together: exactly one runs, all get its reply.
func TestIdenticalDeliveriesRunOnce(t *testing.T) {
	for _, tc := range []struct {
		name string
		st   func(t *testing.T) store.Store
	}{
		{"memory", func(*testing.T) store.Store { return memory.New() }},
		{"redis", func(t *testing.T) store.Store { s, _, a := countedRedis(t); a.Close(); return s }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eng, tf := realFixture(t, time.Second, tc.st(t))
			tf.block = make(chan struct{})
			tn := turn(digits("42"))
			tn.DeliveryID = "evt-1"
			const copies = 50
			replies := make([]engine.Reply, copies)
			var wg sync.WaitGroup
			for i := range copies {
				wg.Go(func() { replies[i] = eng.Handle(context.Background(), tn) })
			}
			time.Sleep(50 * time.Millisecond)
			close(tf.block)
			wg.Wait()
			dups := 0
			for i, r := range replies {
				if ids(r) != "done" || r.Ref != replies[0].Ref {
					t.Fatalf("copy %d: %q ref %s, copy 0 ref %s", i, ids(r), r.Ref, replies[0].Ref)
				}
				if r.Duplicate {
					dups++
				}
			}
			if n := tf.acts.Load(); n != 1 || dups != copies-1 {
				t.Fatalf("acted %d times, %d duplicates", n, dups)
			}
		})
	}
}

// A turn that died holding its claim (a crashed replica) does not lock its
// delivery: the retry runs once the lease lapses, within about the lease.
func TestCrashedTurnRetryRunsPromptly(t *testing.T) {
	st := memory.New()
	eng, tf := realFixture(t, 200*time.Millisecond, st)
	k := store.TurnKeys{Session: engine.SessionKey("console", "U1"), Lock: "lock:{console:U1}",
		Delivery: "dlv:{console:U1}:evt-7", Owner: "crashed"}
	if a, err := st.AcquireTurn(context.Background(), k, 200*time.Millisecond); err != nil || a.State != store.TurnAcquired {
		t.Fatalf("acquire as the crashed turn: %v %v", a.State, err)
	}
	tn := turn(digits("42"))
	tn.DeliveryID = "evt-7"
	started := time.Now()
	r := eng.Handle(context.Background(), tn)
	if ids(r) != "done" || r.Duplicate || tf.acts.Load() != 1 {
		t.Fatalf("retry: %q duplicate=%v acts=%d", ids(r), r.Duplicate, tf.acts.Load())
	}
	if took := time.Since(started); took > 3*time.Second {
		t.Fatalf("retry took %v", took)
	}
}

// A slow step keeps its lease: a copy of its delivery waits for its reply
// instead of taking over after the lease length.
func TestSlowTurnRenewsLease(t *testing.T) {
	// Renewals every 300 ms leave 600 ms of slack on a loaded machine; the
	// step lasts more than three lease lengths.
	const lease = 900 * time.Millisecond
	eng, tf := realFixture(t, lease, memory.New())
	tf.block = make(chan struct{})
	tn := turn(digits("42"))
	tn.DeliveryID = "evt-slow"
	first := make(chan engine.Reply)
	go func() { first <- eng.Handle(context.Background(), tn) }()
	time.AfterFunc(3*lease, func() { close(tf.block) })
	time.Sleep(2 * lease)
	second := eng.Handle(context.Background(), tn)
	r := <-first
	if ids(r) != "done" || !second.Duplicate || ids(second) != "done" || tf.acts.Load() != 1 {
		t.Fatalf("first %q, second %q dup=%v, acts %d", ids(r), ids(second), second.Duplicate, tf.acts.Load())
	}
}

// A turn whose request was cancelled still commits and releases its lease:
// the next turn is not told "busy".
func TestCancelledTurnReleasesLease(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	fx.eng.Handle(ctx, turn(text("test")))
	fx.eng.Handle(ctx, turn(engine.Input{Kind: engine.InputChoice, Choice: "a"}))
	fx.tf.block = make(chan struct{})
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan engine.Reply)
	go func() { done <- fx.eng.Handle(cctx, turn(text("x"))) }()
	for !fx.leaseHeld(t) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	close(fx.tf.block)
	<-done
	fx.tf.block = nil
	if r := fx.eng.Handle(ctx, turn(digits("42"))); ids(r) == engine.MsgBusy {
		t.Fatal("the cancelled turn left its session busy")
	}
}

// A duplicate of a NoReplay turn running elsewhere is answered at once.
func TestNoReplayDuplicateDoesNotWait(t *testing.T) {
	eng, tf := realFixture(t, time.Second, memory.New())
	tf.block = make(chan struct{})
	tn := turn(digits("42"))
	tn.DeliveryID, tn.NoReplay = "evt-3", true
	first := make(chan engine.Reply)
	go func() { first <- eng.Handle(context.Background(), tn) }()
	time.Sleep(50 * time.Millisecond)
	second := eng.Handle(context.Background(), tn)
	close(tf.block)
	<-first
	if !second.Duplicate {
		t.Fatalf("second copy: %q not a duplicate", ids(second))
	}
	if r := eng.Handle(context.Background(), tn); !r.Duplicate || len(r.Outputs) != 0 {
		t.Fatalf("replay of a NoReplay turn: %q dup=%v", ids(r), r.Duplicate)
	}
}

// Run returns at once with the timing floor as NotBefore; Handle waits.
func TestRunDelaysTheReplyNotTheCaller(t *testing.T) {
	var slept time.Duration
	tf := &testFlow{}
	f := tf.flow()
	st := f.Steps["ask"]
	h := st.Handle
	st.Handle = func(ctx context.Context, c *engine.Ctx, in engine.Input) (string, error) {
		c.EqualizeTo(time.Hour)
		return h(ctx, c, in)
	}
	f.Steps["ask"] = st
	eng, err := engine.New(engine.Options{Store: memory.New(), Flows: []*engine.Flow{f},
		Sleep: func(_ context.Context, d time.Duration) { slept += d }})
	if err != nil {
		t.Fatal(err)
	}
	eng.Run(context.Background(), turn(text("test")))
	r := eng.Run(context.Background(), turn(text("nope")))
	if slept != 0 || time.Until(r.NotBefore) < 59*time.Minute {
		t.Fatalf("slept %v, not before in %v", slept, time.Until(r.NotBefore))
	}
}

// One turn is at most two Redis round trips.
func TestTurnRoundTripsRedis(t *testing.T) {
	st, hook, admin := countedRedis(t)
	admin.Close()
	tf := &testFlow{}
	eng, err := engine.New(engine.Options{Store: st, Flows: []*engine.Flow{tf.flow()}})
	if err != nil {
		t.Fatal(err)
	}
	// Load the scripts first: EVALSHA falls back to EVAL once per server.
	conversation(context.Background(), t, eng, "warm")
	hook.n.Store(0)
	conversation(context.Background(), t, eng, "U1")
	if n := hook.n.Load(); n > 2*3 {
		t.Fatalf("%d round trips for 3 turns", n)
	}
}

// A closed conversation (a call hung up) stays closed: later turns get
// Closed and start nothing.
func TestClosedConversationStaysClosed(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	fx.eng.Handle(ctx, turn(text("test")))
	end := turn(engine.Input{Kind: engine.InputCancel})
	end.Close = true
	if r := fx.eng.Handle(ctx, end); !r.Ended {
		t.Fatalf("close: %q", ids(r))
	}
	for _, in := range []engine.Input{text("test"), digits("1"), {Kind: engine.InputStart, Flow: "test"}} {
		if r := fx.eng.Handle(ctx, turn(in)); !r.Closed || len(r.Outputs) != 0 {
			t.Fatalf("turn after close: %q closed=%v", ids(r), r.Closed)
		}
	}
	if len(fx.rec.Find("flow.end")) != 1 {
		t.Fatalf("audit: %v", fx.rec.Names())
	}
}

// downStore is a store whose backend is unreachable.
type downStore struct{ store.Store }

func (downStore) AcquireTurn(context.Context, store.TurnKeys, time.Duration) (store.Acquisition, error) {
	return store.Acquisition{}, store.ErrUnavailable
}
func (downStore) RenewTurn(context.Context, store.TurnKeys, time.Duration) error {
	return store.ErrUnavailable
}
func (downStore) CommitTurn(context.Context, store.TurnKeys, store.Commit) error {
	return store.ErrUnavailable
}

// StoreUp turns false when a turn finds the store down, so that adapters
// acknowledging before the turn (Slack) answer 503 meanwhile; a turn
// cancelled by its caller does not count.
func TestStoreUpFollowsFailures(t *testing.T) {
	tf := &testFlow{}
	eng, err := engine.New(engine.Options{Store: downStore{memory.New()}, Flows: []*engine.Flow{tf.flow()}})
	if err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	eng.Handle(cancelled, turn(text("test")))
	if !eng.StoreUp() {
		t.Fatal("a cancelled turn marked the store down")
	}
	if r := eng.Handle(context.Background(), turn(text("test"))); ids(r) != engine.MsgError {
		t.Fatalf("turn with the store down: %q", ids(r))
	}
	if eng.StoreUp() {
		t.Fatal("StoreUp after a store failure")
	}
}

// hungStore is a store whose backend accepts commands and never answers
// (Redis SIGSTOP): the turn steps wait until their context ends.
type hungStore struct{ downStore }

func (hungStore) AcquireTurn(ctx context.Context, _ store.TurnKeys, _ time.Duration) (store.Acquisition, error) {
	<-ctx.Done()
	return store.Acquisition{}, fmt.Errorf("%w: %w", store.ErrUnavailable, ctx.Err())
}

// A turn that cannot reach the store says so (Reply.Retry) instead of
// passing the fallback message off as an answer; StartBy bounds how long it
// waits for a hung store.
func TestStoreDownAsksForRetry(t *testing.T) {
	tf := &testFlow{}
	for _, st := range []store.Store{downStore{memory.New()}, hungStore{downStore{memory.New()}}} {
		eng, err := engine.New(engine.Options{Store: st, Flows: []*engine.Flow{tf.flow()}})
		if err != nil {
			t.Fatal(err)
		}
		tn := turn(text("test"))
		tn.DeliveryID, tn.StartBy = "evt-9", time.Now().Add(100*time.Millisecond)
		started := time.Now()
		r := eng.Run(context.Background(), tn)
		if !r.Retry || ids(r) != engine.MsgError {
			t.Fatalf("%T: %q retry=%v", st, ids(r), r.Retry)
		}
		if took := time.Since(started); took > 2*time.Second {
			t.Fatalf("%T: gave up after %v, StartBy was 100ms", st, took)
		}
	}
}

// A step cut by its context (a shutdown) keeps the session, drops the
// delivery claim and asks for a retry: the redelivery runs the turn once,
// instead of replaying the error.
func TestCutStepDropsItsClaim(t *testing.T) {
	eng, tf := realFixture(t, time.Second, memory.New())
	tf.block = make(chan struct{})
	tn := turn(digits("42"))
	tn.DeliveryID = "evt-cut"
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan engine.Reply)
	go func() { done <- eng.Run(ctx, tn) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	tf.fail = context.Canceled
	close(tf.block)
	if r := <-done; !r.Retry {
		t.Fatalf("cut step: %q retry=%v", ids(r), r.Retry)
	}
	tf.block, tf.fail = nil, nil
	r := eng.Run(context.Background(), tn)
	if r.Duplicate || r.Retry || ids(r) != "done" || tf.acts.Load() != 1 {
		t.Fatalf("redelivery: %q dup=%v retry=%v, acted %d", ids(r), r.Duplicate, r.Retry, tf.acts.Load())
	}
}

// TestStepCutByStoreAsksForRetry: a step whose own store call finds the
// store unavailable (a failover, an outage) saved nothing: the platform is
// asked to deliver it again and its redelivery runs, instead of the person
// being told "something went wrong" and the delivery recorded as done.
func TestStepCutByStoreAsksForRetry(t *testing.T) {
	eng, tf := realFixture(t, time.Second, memory.New())
	ctx := context.Background()
	eng.Run(ctx, turn(text("test")))
	eng.Run(ctx, turn(engine.Input{Kind: engine.InputChoice, Choice: "a"}))
	tn := turn(digits("42"))
	tn.DeliveryID = "evt-store-cut"
	tf.fail = fmt.Errorf("code: reading challenge: %w", store.ErrUnavailable)
	if r := eng.Run(ctx, tn); !r.Retry {
		t.Fatalf("step cut by the store: %q retry=%v, want a retry", ids(r), r.Retry)
	}
	tf.fail = nil
	r := eng.Run(ctx, tn)
	if r.Duplicate || r.Retry || ids(r) != "done" || tf.acts.Load() != 1 {
		t.Fatalf("redelivery: %q dup=%v retry=%v, acted %d", ids(r), r.Duplicate, r.Retry, tf.acts.Load())
	}
}
