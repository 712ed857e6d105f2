package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/store"
)

// turnRacers is how many goroutines contend in the turn concurrency cases.
const turnRacers = 64

// turnCases are the conformance cases of store.Turns.
var turnCases = []struct {
	name string
	fn   func(t *testing.T, s store.Store, tu store.Turns)
}{
	{"TurnAcquireEmpty", testTurnAcquireEmpty},
	{"TurnAcquireLoadsSession", testTurnAcquireLoads},
	{"TurnCommitThenReplay", testTurnCommitReplay},
	{"TurnRunningThenDone", testTurnRunning},
	{"TurnBusyTakesNothing", testTurnBusy},
	{"TurnLeaseLapses", testTurnLapse},
	{"TurnRenewKeepsLease", testTurnRenew},
	{"TurnCommitConflictReleases", testTurnConflict},
	{"TurnCommitRepeatedIsNoop", testTurnRepeat},
	{"TurnCommitDeleteAndDrop", testTurnDelete},
	{"TurnWithoutDelivery", testTurnNoDelivery},
	{"TurnArgumentsChecked", testTurnArgs},
	{"TurnIdenticalDeliveriesRunOnce", testTurnIdentical},
	{"TurnOneSessionSerialises", testTurnSerialises},
}

// keys returns the turn keys of conversation conv, delivery dlv ("" none)
// and owner, sharing a hash tag as the engine's do.
func keys(conv, dlv, owner string) store.TurnKeys {
	k := store.TurnKeys{Session: "sess:{" + conv + "}", Lock: "lock:{" + conv + "}", Owner: owner}
	if dlv != "" {
		k.Delivery = "dlv:{" + conv + "}:" + dlv
	}
	return k
}

func acquire(t *testing.T, tu store.Turns, k store.TurnKeys, lease time.Duration) store.Acquisition {
	t.Helper()
	a, err := tu.AcquireTurn(ctx(t), k, lease)
	if err != nil {
		t.Fatalf("AcquireTurn(%s): %v", k.Owner, err)
	}
	return a
}

func mustState(t *testing.T, a store.Acquisition, want store.Acquired) {
	t.Helper()
	if a.State != want {
		t.Fatalf("AcquireTurn = %d, want %d", a.State, want)
	}
}

func commit(t *testing.T, tu store.Turns, k store.TurnKeys, c store.Commit) {
	t.Helper()
	if err := tu.CommitTurn(ctx(t), k, c); err != nil {
		t.Fatalf("CommitTurn(%s): %v", k.Owner, err)
	}
}

func put(expect uint64, v, outcome string) store.Commit {
	c := store.Commit{Op: store.SessionPut, Expect: expect, Value: []byte(v), TTL: longTTL, Keep: longTTL}
	if outcome != "" {
		c.Outcome = []byte(outcome)
	}
	return c
}

func testTurnAcquireEmpty(t *testing.T, s store.Store, tu store.Turns) {
	k := keys("c", "d1", "A")
	a := acquire(t, tu, k, longTTL)
	mustState(t, a, store.TurnAcquired)
	if a.Session.Version != 0 || len(a.Session.Value) != 0 {
		t.Fatalf("session of an empty store: %+v", a.Session)
	}
	rec, err := s.Get(ctx(t), k.Lock)
	if err != nil || !store.Owned(rec.Value, store.MarkLease, "A") {
		t.Fatalf("lease record %q, %v", rec.Value, err)
	}
	// The same owner may acquire again (a retried call).
	mustState(t, acquire(t, tu, k, longTTL), store.TurnAcquired)
}

func testTurnAcquireLoads(t *testing.T, s store.Store, tu store.Turns) {
	k := keys("c", "d1", "A")
	mustSet(t, s, k.Session, []byte("state"), longTTL)
	v := mustSet(t, s, k.Session, []byte("state2"), longTTL)
	a := acquire(t, tu, k, longTTL)
	mustState(t, a, store.TurnAcquired)
	if string(a.Session.Value) != "state2" || a.Session.Version != v {
		t.Fatalf("session = (%q, v%d), want (state2, v%d)", a.Session.Value, a.Session.Version, v)
	}
}

func testTurnCommitReplay(t *testing.T, s store.Store, tu store.Turns) {
	k := keys("c", "d1", "A")
	mustState(t, acquire(t, tu, k, longTTL), store.TurnAcquired)
	commit(t, tu, k, put(0, "s1", "reply-1"))
	mustGet(t, s, k.Session, []byte("s1"), 1)
	a := acquire(t, tu, keys("c", "d1", "B"), longTTL)
	mustState(t, a, store.TurnDone)
	if string(a.Outcome) != "reply-1" {
		t.Fatalf("outcome %q", a.Outcome)
	}
	if d := mustTTL(t, s, k.Delivery); d <= 0 || d > longTTL {
		t.Fatalf("outcome kept for %v", d)
	}
	// The lease is free for the next delivery.
	a = acquire(t, tu, keys("c", "d2", "B"), longTTL)
	mustState(t, a, store.TurnAcquired)
	if string(a.Session.Value) != "s1" || a.Session.Version != 1 {
		t.Fatalf("next turn sees (%q, v%d)", a.Session.Value, a.Session.Version)
	}
}

func testTurnRunning(t *testing.T, s store.Store, tu store.Turns) {
	a := keys("c", "d1", "A")
	mustState(t, acquire(t, tu, a, longTTL), store.TurnAcquired)
	b := keys("c", "d1", "B")
	mustState(t, acquire(t, tu, b, longTTL), store.TurnRunning)
	commit(t, tu, a, put(0, "s1", "r"))
	mustState(t, acquire(t, tu, b, longTTL), store.TurnDone)
}

func testTurnBusy(t *testing.T, s store.Store, tu store.Turns) {
	mustState(t, acquire(t, tu, keys("c", "d1", "A"), longTTL), store.TurnAcquired)
	b := keys("c", "d2", "B")
	mustState(t, acquire(t, tu, b, longTTL), store.TurnBusy)
	mustNotFound(t, s, b.Delivery)
	// Another conversation is not affected.
	mustState(t, acquire(t, tu, keys("other", "d2", "B"), longTTL), store.TurnAcquired)
}

func testTurnLapse(t *testing.T, s store.Store, tu store.Turns) {
	a := keys("c", "d1", "A")
	mustState(t, acquire(t, tu, a, shortTTL), store.TurnAcquired)
	b := keys("c", "d1", "B")
	deadline := time.Now().Add(expiryDeadline)
	for acquire(t, tu, b, longTTL).State != store.TurnAcquired {
		if time.Now().After(deadline) {
			t.Fatal("a lapsed claim was never taken over")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := tu.CommitTurn(ctx(t), a, put(0, "late", "r")); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("commit after losing the lease: %v, want ErrLeaseLost", err)
	}
	if err := tu.RenewTurn(ctx(t), a, longTTL); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("renew after losing the lease: %v, want ErrLeaseLost", err)
	}
	mustNotFound(t, s, a.Session)
	commit(t, tu, b, put(0, "s1", "r"))
}

func testTurnRenew(t *testing.T, s store.Store, tu store.Turns) {
	a := keys("c", "d1", "A")
	lease := 3 * shortTTL
	mustState(t, acquire(t, tu, a, lease), store.TurnAcquired)
	end := time.Now().Add(3 * lease)
	for time.Now().Before(end) {
		if err := tu.RenewTurn(ctx(t), a, lease); err != nil {
			t.Fatalf("RenewTurn: %v", err)
		}
		mustState(t, acquire(t, tu, keys("c", "d1", "B"), lease), store.TurnRunning)
		time.Sleep(lease / 5)
	}
	commit(t, tu, a, put(0, "s1", "r"))
}

func testTurnConflict(t *testing.T, s store.Store, tu store.Turns) {
	a := keys("c", "d1", "A")
	mustState(t, acquire(t, tu, a, longTTL), store.TurnAcquired)
	mustSet(t, s, a.Session, []byte("moved"), longTTL)
	if err := tu.CommitTurn(ctx(t), a, put(0, "s1", "r")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("commit over a moved session: %v, want ErrConflict", err)
	}
	mustGet(t, s, a.Session, []byte("moved"), 1)
	mustNotFound(t, s, a.Delivery)
	mustState(t, acquire(t, tu, keys("c", "d1", "B"), longTTL), store.TurnAcquired)
}

func testTurnRepeat(t *testing.T, s store.Store, tu store.Turns) {
	a := keys("c", "d1", "A")
	mustState(t, acquire(t, tu, a, longTTL), store.TurnAcquired)
	commit(t, tu, a, put(0, "s1", "r"))
	commit(t, tu, a, put(0, "s1", "r"))
	mustGet(t, s, a.Session, []byte("s1"), 1)
}

func testTurnDelete(t *testing.T, s store.Store, tu store.Turns) {
	a := keys("c", "d1", "A")
	v := mustSet(t, s, a.Session, []byte("s"), longTTL)
	mustState(t, acquire(t, tu, a, longTTL), store.TurnAcquired)
	commit(t, tu, a, store.Commit{Op: store.SessionDelete, Expect: v})
	mustNotFound(t, s, a.Session)
	// No outcome: the claim is dropped, so the delivery runs again.
	mustNotFound(t, s, a.Delivery)
	mustState(t, acquire(t, tu, keys("c", "d1", "B"), longTTL), store.TurnAcquired)
}

func testTurnNoDelivery(t *testing.T, s store.Store, tu store.Turns) {
	a := keys("c", "", "A")
	mustState(t, acquire(t, tu, a, longTTL), store.TurnAcquired)
	mustState(t, acquire(t, tu, keys("c", "", "B"), longTTL), store.TurnBusy)
	commit(t, tu, a, store.Commit{Outcome: []byte("ignored"), Keep: longTTL})
	mustNotFound(t, s, a.Session)
	mustState(t, acquire(t, tu, keys("c", "", "B"), longTTL), store.TurnAcquired)
}

func testTurnArgs(t *testing.T, s store.Store, tu store.Turns) {
	k := keys("c", "d1", "A")
	if _, err := tu.AcquireTurn(ctx(t), k, 0); err == nil {
		t.Error("zero lease accepted")
	}
	k.Owner = ""
	if _, err := tu.AcquireTurn(ctx(t), k, longTTL); err == nil {
		t.Error("turn without owner accepted")
	}
	k.Owner = "A"
	if err := tu.CommitTurn(ctx(t), k, store.Commit{TTL: -time.Second}); err == nil {
		t.Error("negative ttl accepted")
	}
}

// testTurnIdentical sends one delivery from turnRacers goroutines at once:
// exactly one runs it, every other one gets its outcome.
func testTurnIdentical(t *testing.T, s store.Store, tu store.Turns) {
	var runs atomic.Int32
	outcomes := make([][]byte, turnRacers)
	err := race(turnRacers, func(i int) error {
		k := keys("c", "d1", "o"+strconv.Itoa(i))
		for {
			a, err := tu.AcquireTurn(ctx(t), k, longTTL)
			if err != nil {
				return err
			}
			switch a.State {
			case store.TurnAcquired:
				runs.Add(1)
				out := []byte("by " + k.Owner)
				outcomes[i] = out
				return tu.CommitTurn(ctx(t), k, put(a.Session.Version, "s", string(out)))
			case store.TurnDone:
				outcomes[i] = a.Outcome
				return nil
			case store.TurnRunning:
				time.Sleep(time.Millisecond)
			default:
				return fmt.Errorf("owner %s: state %d", k.Owner, a.State)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if runs.Load() != 1 {
		t.Fatalf("the delivery ran %d times, want once", runs.Load())
	}
	for i, o := range outcomes {
		if !bytes.Equal(o, outcomes[0]) {
			t.Fatalf("racer %d got outcome %q, racer 0 %q", i, o, outcomes[0])
		}
	}
	mustGet(t, s, "sess:{c}", []byte("s"), 1)
}

// testTurnSerialises sends turnRacers different deliveries of one
// conversation at once, each retried while busy: every one runs exactly once
// and no commit is lost.
func testTurnSerialises(t *testing.T, s store.Store, tu store.Turns) {
	var inside, runs atomic.Int32
	err := race(turnRacers, func(i int) error {
		k := keys("c", "d"+strconv.Itoa(i), "o"+strconv.Itoa(i))
		for {
			a, err := tu.AcquireTurn(ctx(t), k, longTTL)
			if err != nil {
				return err
			}
			switch a.State {
			case store.TurnAcquired:
				if inside.Add(1) != 1 {
					return errors.New("two turns of one conversation ran at once")
				}
				runs.Add(1)
				n, _ := strconv.Atoi(string(a.Session.Value))
				inside.Add(-1)
				return tu.CommitTurn(ctx(t), k, put(a.Session.Version, strconv.Itoa(n+1), "r"))
			case store.TurnBusy:
				time.Sleep(time.Millisecond)
			default:
				return fmt.Errorf("owner %s: state %d", k.Owner, a.State)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if runs.Load() != turnRacers {
		t.Fatalf("%d turns ran, want %d", runs.Load(), turnRacers)
	}
	mustGet(t, s, "sess:{c}", []byte(strconv.Itoa(turnRacers)), turnRacers)
}

// race runs fn(i) for i in [0, n) on n goroutines released together and
// returns the first error.
func race(n int, fn func(i int) error) error {
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errors.Join(errs...)
}
