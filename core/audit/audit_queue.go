package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
)

// ErrQueueClosed is returned by Queue.Close when events were still queued at
// its deadline; they were written anyway, after the deadline, so that nothing
// is lost (see Close).
var ErrQueueClosed = errors.New("audit: queue flushed past its deadline")

// Queue is a Sink that detaches audit writes from the request that caused
// them. A turn whose client hangs up (the Slack or Twilio request is
// cancelled) still has its decisions recorded: Write copies the event into a
// bounded queue and one goroutine writes it to the next Sink with a context
// that is never cancelled by the caller.
//
// Nothing is silently dropped. When the queue is full (the sink is slower
// than the events arrive), Write falls back to writing synchronously in the
// caller's goroutine, which slows the caller down instead of losing the
// record, and counts the event in Stats().Overloaded and logs a warning: that
// counter is the overload signal (resetbot_audit_overloaded_total). After
// Close, Write is synchronous too, so a turn cut by shutdown still records
// its last events.
type Queue struct {
	next Sink
	log  *slog.Logger
	ch   chan Event

	mu     sync.RWMutex // guards closed against sends on a closed channel
	closed bool
	done   chan struct{}

	written, failed, overloaded atomic.Uint64
}

var _ Sink = (*Queue)(nil)

// QueueStats are the queue's counters, for metrics.
type QueueStats struct {
	// Queued is the number of events waiting to be written.
	Queued int
	// Written and Failed count events the next sink accepted or refused.
	Written, Failed uint64
	// Overloaded counts events written synchronously because the queue was
	// full.
	Overloaded uint64
}

// NewQueue starts a queue of at most size events in front of next. Call
// Close to flush it.
func NewQueue(next Sink, size int, log *slog.Logger) *Queue {
	if size < 1 {
		size = 1
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	q := &Queue{next: next, log: log, ch: make(chan Event, size), done: make(chan struct{})}
	go q.run()
	return q
}

// Write implements Sink. ctx's cancellation is ignored on purpose (its values
// are kept): the record must survive the request. It returns an error only
// when the event was written synchronously and the next sink failed.
func (q *Queue) Write(ctx context.Context, e Event) error {
	e = cloneEvent(e)
	q.mu.RLock()
	if !q.closed {
		select {
		case q.ch <- e:
			q.mu.RUnlock()
			return nil
		default:
		}
	}
	closed := q.closed
	q.mu.RUnlock()
	if !closed {
		q.overloaded.Add(1)
		q.log.Warn("audit queue full; writing synchronously", "event", e.Name, "ref", e.Ref)
	}
	return q.write(context.WithoutCancel(ctx), e)
}

func (q *Queue) write(ctx context.Context, e Event) error {
	if err := q.next.Write(ctx, e); err != nil {
		q.failed.Add(1)
		q.log.Error("audit event not recorded", "event", e.Name, "ref", e.Ref, "err", err)
		return err
	}
	q.written.Add(1)
	return nil
}

func (q *Queue) run() {
	defer close(q.done)
	for e := range q.ch {
		_ = q.write(context.Background(), e)
	}
}

// Close stops queueing, then waits until every queued event is written or
// ctx is done. Events still queued at ctx's deadline keep being written in
// the background (they are already in memory and a local write is quick);
// Close then returns ErrQueueClosed with their number so the operator knows
// the shutdown budget was too short for the audit sink. Close is idempotent.
func (q *Queue) Close(ctx context.Context) error {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.ch)
	}
	q.mu.Unlock()
	select {
	case <-q.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %d events still queued", ErrQueueClosed, len(q.ch))
	}
}

// Stats returns the queue's counters.
func (q *Queue) Stats() QueueStats {
	return QueueStats{Queued: len(q.ch), Written: q.written.Load(), Failed: q.failed.Load(),
		Overloaded: q.overloaded.Load()}
}
