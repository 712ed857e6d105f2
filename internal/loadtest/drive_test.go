package loadtest

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/resetbot/resetbot/internal/procrig"
)

// sample is what a workload measured, before the process counters.
type sample struct {
	turns, rejected, lost, errors int64
	unsent                        int64  // open loop: arrivals the generator could not start (in-flight cap)
	firstErr                      string // what the first error was, for the table's note
	wall                          time.Duration
	ack, turn                     []time.Duration
}

// add sums two samples of the same workload (interleaved rounds).
func (s sample) add(o sample) sample {
	s.turns += o.turns
	s.rejected += o.rejected
	s.lost += o.lost
	s.errors += o.errors
	s.unsent += o.unsent
	if s.firstErr == "" {
		s.firstErr = o.firstErr
	}
	s.wall += o.wall
	s.ack = append(s.ack, o.ack...)
	s.turn = append(s.turn, o.turn...)
	return s
}

// recorder collects latencies from many goroutines.
type recorder struct {
	mu        sync.Mutex
	ack, turn []time.Duration
	turns     atomic.Int64
	rejected  atomic.Int64
	lost      atomic.Int64
	errors    atomic.Int64
	unsent    atomic.Int64
	firstErr  atomic.Pointer[string]
}

// fail counts an error and keeps the first one's description.
func (r *recorder) fail(format string, args ...any) {
	r.errors.Add(1)
	msg := fmt.Sprintf(format, args...)
	r.firstErr.CompareAndSwap(nil, &msg)
}

func (r *recorder) ok(ack, turn time.Duration) {
	r.turns.Add(1)
	r.mu.Lock()
	r.ack = append(r.ack, ack)
	r.turn = append(r.turn, turn)
	r.mu.Unlock()
}

func (r *recorder) sample(wall time.Duration) sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	var first string
	if p := r.firstErr.Load(); p != nil {
		first = *p
	}
	return sample{turns: r.turns.Load(), rejected: r.rejected.Load(), lost: r.lost.Load(), errors: r.errors.Load(),
		unsent: r.unsent.Load(), firstErr: first, wall: wall, ack: r.ack, turn: r.turn}
}

// replyWait bounds how long a Slack turn may take before it counts as lost.
const replyWait = 5 * time.Second

// slackTurn sends one DM event and waits for the bot's reply in that DM.
// t0 is when the turn was due: its latency counts from then, so a generator
// that starts it late does not hide the wait (no coordinated omission).
func slackTurn(c *procrig.Client, f *procrig.FakeSlack, rec *recorder, id, user string, t0 time.Time) {
	channel := "D" + user
	wait := f.Expect(channel)
	code, err := c.PostSlack(procrig.SlackEvent("Ev"+id, user, channel, "hello"), 0)
	ack := time.Since(t0)
	switch {
	case err != nil:
		f.Cancel(channel)
		rec.fail("slack: %v", err)
		return
	case code == http.StatusServiceUnavailable:
		f.Cancel(channel)
		rec.rejected.Add(1) // Slack redelivers a 503: not lost
		return
	case code != http.StatusOK:
		f.Cancel(channel)
		rec.fail("slack: HTTP %d", code)
		return
	}
	select {
	case p := <-wait:
		rec.ok(ack, p.At.Sub(t0))
	case <-time.After(replyWait):
		f.Cancel(channel)
		rec.lost.Add(1) // acknowledged, never answered
	}
}

// voiceTurn sends one voice webhook and returns the next action ("" when
// the call ended or the turn failed); t0 is when it was due, as for slackTurn.
func voiceTurn(c *procrig.Client, rec *recorder, path, call, digits string, t0 time.Time) string {
	code, doc, err := c.PostTwilio(path, procrig.CallParams(call, digits))
	d := time.Since(t0)
	switch {
	case err != nil:
		rec.fail("voice: %v", err)
		return ""
	case code == http.StatusServiceUnavailable:
		rec.rejected.Add(1) // shed before any work: Twilio takes the fallback URL
		return ""
	case code != http.StatusOK:
		rec.fail("voice: HTTP %d", code)
		return ""
	case strings.Contains(doc, "very busy") || strings.Contains(doc, "went wrong"):
		rec.fail("voice: answered %.80q", doc) // answered, but not with the turn
		return ""
	}
	rec.ok(d, d)
	return procrig.TwiMLAction(doc)
}

// closedLoop runs conc senders back to back for d (at most maxTurns turns).
func closedLoop(conc int, d time.Duration, maxTurns int64, one func(worker int, seq int64)) time.Duration {
	var seq atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	t0 := time.Now()
	var wg sync.WaitGroup
	for w := range conc {
		wg.Go(func() {
			for ctx.Err() == nil {
				n := seq.Add(1)
				if n > maxTurns {
					return
				}
				one(w, n)
			}
		})
	}
	wg.Wait()
	return time.Since(t0)
}

// openLoop starts one arrival every 1/rate for d, each in its own goroutine,
// with at most maxInFlight outstanding; arrivals beyond that are counted as
// unsent (the generator, not the server, fell behind). Each arrival gets its
// due time, from which its latency is measured.
func openLoop(rate float64, d time.Duration, maxInFlight int, rec *recorder, one func(seq int64, due time.Time)) time.Duration {
	sem := make(chan struct{}, maxInFlight)
	t0 := time.Now()
	n := int64(d.Seconds() * rate)
	var wg sync.WaitGroup
	for i := range n {
		at := t0.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		if w := time.Until(at); w > 0 {
			time.Sleep(w)
		}
		select {
		case sem <- struct{}{}:
		default:
			rec.unsent.Add(1)
			continue
		}
		wg.Go(func() { defer func() { <-sem }(); one(i, at) })
	}
	wg.Wait()
	return time.Since(t0)
}

// workloads ------------------------------------------------------------------

func slackSaturated(c *procrig.Client, f *procrig.FakeSlack, tag string, conc int, d time.Duration) sample {
	rec := &recorder{}
	wall := closedLoop(conc, d, 200000, func(w int, n int64) {
		slackTurn(c, f, rec, fmt.Sprintf("%s%d", tag, n), fmt.Sprintf("U%s%d", tag, w), time.Now())
	})
	return rec.sample(wall)
}

// slackRate sends rate DM events a second for d, the n-th from user(n).
func slackRate(c *procrig.Client, f *procrig.FakeSlack, tag string, rate float64, d time.Duration, user func(n int64) string) sample {
	rec := &recorder{}
	wall := openLoop(rate, d, 4000, rec, func(n int64, due time.Time) {
		slackTurn(c, f, rec, fmt.Sprintf("%s%d", tag, n), user(n), due)
	})
	return rec.sample(wall)
}

// returning gives the turns of a fixed-rate run to ratePool people in turn,
// the same ones in every round of a target (its warm-up included): each
// person's turns are 0.5 s apart at 2,000/s, never overlapping, and their
// profiles were looked up in the warm-up, as in a conversation under way.
func returning(target string) func(n int64) string {
	return func(n int64) string { return fmt.Sprintf("Ur%s%d", target, n%ratePool) }
}

// newcomers gives every turn of a fixed-rate run to someone never seen
// before: each turn is a first contact, with its users.info lookup.
func newcomers(tag string) func(n int64) string {
	return func(n int64) string { return fmt.Sprintf("U%s%d", tag, n) }
}

func voiceSaturated(c *procrig.Client, tag string, conc int, d time.Duration) sample {
	rec := &recorder{}
	wall := closedLoop(conc, d, 200000, func(w int, n int64) {
		// A call: choose English (the engine's first turn), then star to
		// hear the prompt again (a turn on the stored session). Not a
		// login: an identification answer waits out the anti-enumeration
		// timing floor (~300 ms) by design, which would measure the floor.
		call := fmt.Sprintf("CA%s%d", tag, n)
		if next := voiceTurn(c, rec, "/voice/language", call, "1", time.Now()); next != "" {
			voiceTurn(c, rec, next, call, "*", time.Now())
		}
	})
	return rec.sample(wall)
}

func voiceRate(c *procrig.Client, tag string, rate float64, d time.Duration) sample {
	rec := &recorder{}
	wall := openLoop(rate, d, 4000, rec, func(n int64, due time.Time) {
		voiceTurn(c, rec, "/voice/language", fmt.Sprintf("CA%s%d", tag, n), "1", due)
	})
	return rec.sample(wall)
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(p * float64(len(s)-1))
	return s[i]
}
