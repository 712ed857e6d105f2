package faulttest

import (
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/resetbot/resetbot/internal/procrig"
	"github.com/resetbot/resetbot/internal/testserver"
)

// alternate sends step i to replica i%2 (a round-robin load balancer).
func alternate(step int) route { return route{first: step, copies: 1} }

// TestReplicaKilledMidTurn: two replicas share Redis; one is killed (-9)
// while it runs a turn stuck in a hung directory (slapd SIGSTOP), and again
// under ordinary traffic. The platform's redelivery reaches the survivor,
// which must run the turn once, promptly: no conversation lost, nothing
// sent or done twice.
func TestReplicaKilledMidTurn(t *testing.T) {
	e := newEnv(t, procrig.Backends{Redis: testserver.Redis(t)}, procrig.Options{}, 2)
	t.Run("under traffic", func(t *testing.T) {
		// Ordinary traffic on both replicas, one killed in the middle of it.
		tl := &tally{}
		var wg sync.WaitGroup
		for i, u := range users {
			wg.Go(func() { e.call(tl, u, fmt.Sprintf("kill3x%d", i), alternate, nil) })
			wg.Go(func() { e.chat(tl, u, fmt.Sprintf("kill4x%d", i), alternate, nil) })
		}
		time.Sleep(600 * time.Millisecond)
		e.rep(0).Kill()
		wg.Wait()
		e.replace(0)
		tl.report(t, "replica kill -9 under traffic")
	})
	t.Run("turn stuck in directory", func(t *testing.T) {
		tl := &tally{}
		slapd := e.be.Slapd
		// A turn stuck in the directory when its replica dies.
		stuckOn := func(rep, step int) func(int) {
			return func(i int) {
				if i != step {
					return
				}
				if err := slapd.Signal(syscall.SIGSTOP); err != nil {
					t.Fatal(err)
				}
				go func() {
					time.Sleep(700 * time.Millisecond)
					e.rep(rep).Kill()
					_ = slapd.Signal(syscall.SIGCONT)
				}()
			}
		}
		routeStuck := func(i int) route {
			if i <= 2 {
				return route{first: 0, copies: 1}
			}
			return route{first: 1, copies: 1}
		}
		e.call(tl, users[0], "kill1", routeStuck, stuckOn(0, 2))
		e.replace(0)
		tl.report(t, "replica kill -9 with a phone turn stuck in slapd")
	})
	t.Run("acked Slack turn stuck in directory", func(t *testing.T) {
		tl := &tally{}
		slapd := e.be.Slapd
		// The login is looked up in the hung directory when the replica dies.
		e.chat(tl, users[1], "kill2", one(0), func(i int) {
			if i != 1 {
				return
			}
			if err := slapd.Signal(syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			go func() {
				time.Sleep(700 * time.Millisecond)
				e.rep(0).Kill()
				_ = slapd.Signal(syscall.SIGCONT)
			}()
		})
		e.replace(0)
		tl.report(t, "replica kill -9 with an acked Slack turn stuck in slapd")
	})
}

// TestConcurrentCopies: every webhook is delivered five times at once, to
// one replica and spread over two. Exactly one copy may act; the others
// wait for its answer — never zero, never two.
func TestConcurrentCopies(t *testing.T) {
	e := newEnv(t, procrig.Backends{Redis: testserver.Redis(t)}, procrig.Options{}, 2)
	for _, c := range []struct {
		name   string
		spread bool
	}{{"one replica", false}, {"both replicas", true}} {
		t.Run(c.name, func(t *testing.T) {
			tl := &tally{}
			r := func(int) route { return route{first: 0, copies: 5, spread: c.spread} }
			var wg sync.WaitGroup
			for i, u := range users {
				wg.Go(func() { e.call(tl, u, fmt.Sprintf("dup%s%d", c.name[:1], i), r, nil) })
				wg.Go(func() { e.chat(tl, u, fmt.Sprintf("dup%s%d", c.name[:1], i), r, nil) })
			}
			wg.Wait()
			tl.report(t, "5 concurrent copies, "+c.name)
		})
	}
}

// stuckThenTerm hangs the directory (slapd SIGSTOP) before step of a
// conversation, and 500 ms later sends SIGTERM to replica 0; it records how
// long the replica took to exit and resumes the directory.
func stuckThenTerm(t *testing.T, e *env, step int, took *[]time.Duration, mu *sync.Mutex) func(int) {
	return func(i int) {
		if i != step {
			return
		}
		slapd := e.be.Slapd
		if err := slapd.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		go func() {
			time.Sleep(500 * time.Millisecond)
			s := e.rep(0)
			t0 := time.Now()
			s.Signal(syscall.SIGTERM)
			exited := s.Wait(10 * time.Second)
			mu.Lock()
			*took = append(*took, time.Since(t0))
			mu.Unlock()
			_ = slapd.Signal(syscall.SIGCONT)
			if !exited {
				t.Errorf("replica still running 10 s after SIGTERM")
				s.Kill()
			}
		}()
	}
}

// TestShutdownPastBudget: SIGTERM while a turn is stuck in a hung directory
// for longer than shutdown_timeout. The replica must exit within the budget
// (checked always) and release the cut turn's claim, so that the
// redelivery to the other replica runs it.
func TestShutdownPastBudget(t *testing.T) {
	const budget = time.Second
	e := newEnv(t, procrig.Backends{Redis: testserver.Redis(t)}, procrig.Options{ShutdownTimeout: budget}, 2)
	var took []time.Duration
	var mu sync.Mutex
	routeCut := func(i int) route {
		if i <= 2 {
			return route{first: 0, copies: 1}
		}
		return route{first: 1, copies: 1}
	}
	t.Run("exit within shutdown_timeout", func(t *testing.T) {
		tl := &tally{}
		e.call(tl, users[0], "term1", routeCut, stuckThenTerm(t, e, 2, &took, &mu))
		e.replace(0)
		// A Slack turn running (stuck) when the replica is told to stop: its
		// request and the queue drain must not outlast the budget either.
		// The event is not acknowledged while its turn is stuck (Slack
		// redelivers it; the next subtests check that it is answered).
		c := e.client(e.rep(0))
		if code, err := c.PostSlack(procrig.SlackEvent("EvTerm1", "UTERM2", "DUTERM2", "reset"), 0); err != nil || code != 200 ||
			!e.waitPost("DUTERM2", 0, "employee number", 5*time.Second) {
			t.Fatalf("slack reset: %d %v", code, err)
		}
		stuckThenTerm(t, e, 0, &took, &mu)(0) // the login is looked up in the hung directory
		if code, err := c.PostSlack(procrig.SlackEvent("EvTerm2", "UTERM2", "DUTERM2", "alice"), 0); err == nil && code == 200 {
			t.Errorf("slack login stuck in the directory was acknowledged (%d) by a replica shutting down", code)
		}
		e.rep(0).Wait(10 * time.Second)
		time.Sleep(100 * time.Millisecond)
		e.replace(0)
		mu.Lock()
		defer mu.Unlock()
		if len(took) != 2 {
			t.Fatalf("%d exits measured, want 2", len(took))
		}
		for _, d := range took {
			t.Logf("exit %v after SIGTERM (shutdown_timeout %v)", d.Round(time.Millisecond), budget)
			if d > budget+2*time.Second {
				t.Errorf("exit took %v, over shutdown_timeout %v (+2 s slack)", d, budget)
			}
		}
		t.Logf("phone conversation cut by the shutdown: %d of %d lost, %d errors shown (asserted in the next subtest)",
			tl.lost.Load(), tl.convs.Load(), tl.errorsShown.Load())
	})
	t.Run("cut phone turn runs on the other replica", func(t *testing.T) {
		tl := &tally{}
		e.call(tl, users[0], "term3", routeCut, stuckThenTerm(t, e, 2, &took, &mu))
		e.replace(0)
		tl.report(t, "SIGTERM with a phone turn longer than shutdown_timeout")
	})
	t.Run("cut acked Slack turn is answered", func(t *testing.T) {
		tl := &tally{}
		e.chat(tl, users[1], "term4", one(0), stuckThenTerm(t, e, 1, &took, &mu))
		tl.report(t, "SIGTERM with an acked Slack turn longer than shutdown_timeout")
	})
}
