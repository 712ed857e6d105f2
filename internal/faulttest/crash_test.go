package faulttest

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/resetbot/resetbot/internal/procrig"
	"github.com/resetbot/resetbot/internal/testserver"
)

// gate runs a scenario known to fail on main only when RESETBOT_FAULTS=all
// (or names the scenario). It is not a silent skip: the skip message says
// why and how to run it, and the report of the issue carries the counts.
func gate(t *testing.T, name, why string) {
	t.Helper()
	v := os.Getenv("RESETBOT_FAULTS")
	if v == "all" || strings.Contains(","+v+",", ","+name+",") {
		return
	}
	t.Skipf("fault scenario %s still fails on main (%s); run it with RESETBOT_FAULTS=all or RESETBOT_FAULTS=%s", name, why, name)
}

// alternate sends step i to replica i%2 (a round-robin load balancer).
func alternate(step int) route { return route{first: step, copies: 1} }

// TestReplicaKilledMidTurn: two replicas share Redis; one is killed (-9)
// while it runs a turn stuck in a hung directory (slapd SIGSTOP), and again
// under ordinary traffic. The platform's redelivery reaches the survivor,
// which must run the turn once, promptly: no conversation lost, nothing
// sent or done twice.
func TestReplicaKilledMidTurn(t *testing.T) {
	gate(t, "kill", "an unfinished turn's delivery claim stays pending for an hour")
	e := newEnv(t, procrig.Backends{Redis: testserver.Redis(t)}, procrig.Options{}, 2)
	tl := &tally{}
	slapd := e.be.Slapd

	// A phone turn stuck in the directory when its replica dies.
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
	// The same for a Slack turn (the login is looked up in the directory).
	e.chat(tl, users[1], "kill2", one(0), stuckOn(0, 1))
	e.replace(0)

	// Ordinary traffic on both replicas, one killed in the middle of it.
	var wg sync.WaitGroup
	for i, u := range users {
		wg.Go(func() { e.call(tl, u, fmt.Sprintf("kill3%d", i), alternate, nil) })
		wg.Go(func() { e.chat(tl, u, fmt.Sprintf("kill4%d", i), alternate, nil) })
	}
	time.Sleep(600 * time.Millisecond)
	e.rep(0).Kill()
	wg.Wait()
	tl.report(t, "replica kill -9 mid-turn")
}

// TestConcurrentCopies: every webhook is delivered five times at once, to
// one replica and spread over two. Exactly one copy may act; the others
// wait for its answer — never zero, never two.
func TestConcurrentCopies(t *testing.T) {
	gate(t, "copies", "identical deliveries racing for the claim and the lock can all answer busy")
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

// TestShutdownPastBudget: SIGTERM while a turn is stuck in a hung directory
// for longer than shutdown_timeout. The replica must exit within the budget
// and release the cut turn's claim, so the redelivery to the other replica
// runs it.
func TestShutdownPastBudget(t *testing.T) {
	gate(t, "shutdown", "a cut turn's delivery claim stays pending for an hour")
	const budget = time.Second
	e := newEnv(t, procrig.Backends{Redis: testserver.Redis(t)}, procrig.Options{ShutdownTimeout: budget}, 2)
	tl := &tally{}
	slapd := e.be.Slapd
	var exitTook []time.Duration
	var mu sync.Mutex
	termDuring := func(step int) func(int) {
		return func(i int) {
			if i != step {
				return
			}
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
				exitTook = append(exitTook, time.Since(t0))
				mu.Unlock()
				_ = slapd.Signal(syscall.SIGCONT)
				if !exited {
					t.Errorf("replica still running 10 s after SIGTERM with shutdown_timeout %v", budget)
					s.Kill()
				}
			}()
		}
	}
	routeCut := func(i int) route {
		if i <= 2 {
			return route{first: 0, copies: 1}
		}
		return route{first: 1, copies: 1}
	}
	e.call(tl, users[0], "term1", routeCut, termDuring(2))
	e.replace(0)
	e.chat(tl, users[1], "term2", one(0), termDuring(1))
	mu.Lock()
	defer mu.Unlock()
	for _, d := range exitTook {
		t.Logf("exit %v after SIGTERM (shutdown_timeout %v)", d.Round(time.Millisecond), budget)
		if d > budget+2*time.Second {
			t.Errorf("exit took %v, over shutdown_timeout %v (+2 s slack)", d, budget)
		}
	}
	tl.report(t, "SIGTERM with a turn longer than shutdown_timeout")
}
