// Package dispatch runs webhook work after the platform has been answered.
// Slack wants an acknowledgement within 3 seconds and Twilio and the Bot
// Framework have timeouts too, while a directory or an SMS provider may be
// slow; adapters acknowledge at once and submit the turn here.
//
// The queue is bounded: when it is full, Submit fails at once with ErrFull so
// the adapter can answer "busy" (HTTP 503 or a catalogued message) instead of
// growing memory without limit or dropping work silently.
package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// Errors returned by Submit.
var (
	ErrFull   = errors.New("dispatch: queue full")
	ErrClosed = errors.New("dispatch: closed")
)

// Job is one unit of work. Its context is detached from the request that
// submitted it and bounded by the pool's job timeout.
type Job func(ctx context.Context)

// Pool is a fixed set of workers over a bounded queue.
type Pool struct {
	jobs    chan Job
	wg      sync.WaitGroup
	timeout time.Duration
	log     *slog.Logger
	mu      sync.RWMutex
	closed  bool

	// base parents every job's context; Shutdown cancels it at its deadline
	// so that running jobs stop and queued ones start already cancelled.
	base   context.Context
	cutAll context.CancelFunc

	done, rejected, panics atomic.Uint64
}

// Stats are counters for metrics.
type Stats struct {
	Done, Rejected, Panics uint64
	Queued                 int
}

// New starts workers goroutines over a queue of size jobs; each job gets at
// most timeout.
func New(workers, size int, timeout time.Duration, log *slog.Logger) *Pool {
	if workers < 1 {
		workers = 1
	}
	if size < 1 {
		size = 1
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Pool{jobs: make(chan Job, size), timeout: timeout, log: log}
	p.base, p.cutAll = context.WithCancel(context.Background())
	for range workers {
		p.wg.Add(1)
		go p.work()
	}
	return p
}

// Submit queues j, or returns ErrFull at once.
func (p *Pool) Submit(j Job) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return ErrClosed
	}
	select {
	case p.jobs <- j:
		return nil
	default:
		p.rejected.Add(1)
		return ErrFull
	}
}

func (p *Pool) work() {
	defer p.wg.Done()
	for j := range p.jobs {
		p.run(j)
	}
}

// run executes one job; a panic is logged (type and stack, not the value,
// which could quote user input) and the worker lives on.
func (p *Pool) run(j Job) {
	ctx, cancel := context.WithTimeout(p.base, p.timeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			p.panics.Add(1)
			p.log.Error("dispatch job panicked", "stack", string(debug.Stack()))
		}
	}()
	j(ctx)
	p.done.Add(1)
}

// Close stops accepting work and waits for queued jobs to finish, however
// long they take. Servers use Shutdown, which is bounded.
func (p *Pool) Close() { _ = p.Shutdown(context.Background()) }

// ErrCut is returned by Shutdown when jobs were still queued or running at
// its deadline.
var ErrCut = errors.New("dispatch: jobs cut by shutdown")

// Shutdown stops accepting work and waits for queued and running jobs to
// finish until ctx is done. At that deadline it cancels the context of every
// running job and of every job still queued, which then runs at once with a
// done context, so that each job can release what it holds (a delivery
// claim) and record that it was cut instead of vanishing; Shutdown then waits
// for those, which return promptly when they honour their context. It
// returns ErrCut with the number of jobs that did not finish in time.
func (p *Pool) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.jobs)
	}
	p.mu.Unlock()
	finished := make(chan struct{})
	go func() { p.wg.Wait(); close(finished) }()
	select {
	case <-finished:
		return nil
	case <-ctx.Done():
	}
	before := p.done.Load() + p.panics.Load()
	queued := len(p.jobs)
	p.cutAll()
	<-finished
	cut := p.done.Load() + p.panics.Load() - before
	p.log.Warn("shutdown deadline reached; turns cut", "cut", cut, "queued_at_deadline", queued)
	return fmt.Errorf("%w: %d jobs (%d not started)", ErrCut, cut, queued)
}

// Stats returns the pool's counters.
func (p *Pool) Stats() Stats {
	return Stats{Done: p.done.Load(), Rejected: p.rejected.Load(), Panics: p.panics.Load(), Queued: len(p.jobs)}
}

// Full reports whether the queue has no room now. Adapters check it before
// reading a request, so an overloaded replica answers 503 at the cost of a
// length check instead of parsing and authenticating work it cannot queue.
func (p *Pool) Full() bool { return len(p.jobs) >= cap(p.jobs) }
