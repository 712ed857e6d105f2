package notify

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Queue is a Sender that hands messages to a fixed pool of workers through a
// bounded buffer, so a slow provider does not hold up a chat reply.
//
// The buffer never grows: when it is full Send fails at once with ErrQueueFull
// (shedding load with a clear signal beats an unbounded backlog of codes that
// would expire before delivery anyway). A delivery failure after Send returned
// cannot reach the caller; it is counted in Stats and passed to the error
// handler (WithErrorHandler), where it can be logged and audited.
type Queue struct {
	inner   Sender
	ch      chan job
	wg      sync.WaitGroup
	mu      sync.RWMutex // guards closed against concurrent Send and Close
	closed  bool
	timeout time.Duration
	onErr   func(Message, error)

	sent, failed, dropped atomic.Uint64
}

var _ Sender = (*Queue)(nil)

type job struct {
	ctx context.Context
	m   Message
}

// QueueOption configures a Queue.
type QueueOption func(*Queue)

// WithSendTimeout bounds each delivery attempt by the workers. Zero (the
// default) relies on the inner Sender's own timeout.
func WithSendTimeout(d time.Duration) QueueOption { return func(q *Queue) { q.timeout = d } }

// WithErrorHandler sets a function called, from a worker, for every delivery
// that failed or panicked. The error never contains the message body.
func WithErrorHandler(f func(Message, error)) QueueOption { return func(q *Queue) { q.onErr = f } }

// QueueStats are the Queue's counters since it was created.
type QueueStats struct {
	// Sent counts messages the inner Sender accepted.
	Sent uint64
	// Failed counts messages the inner Sender refused or panicked on.
	Failed uint64
	// Dropped counts Send calls refused with ErrQueueFull.
	Dropped uint64
	// Pending is the number of messages waiting in the buffer right now.
	Pending int
}

// NewQueue starts workers goroutines delivering through inner from a buffer of
// size messages. Values below 1 are raised to 1. Call Close to stop them.
func NewQueue(inner Sender, size, workers int, opts ...QueueOption) *Queue {
	size, workers = max(size, 1), max(workers, 1)
	q := &Queue{inner: inner, ch: make(chan job, size)}
	for _, o := range opts {
		o(q)
	}
	q.wg.Add(workers)
	for range workers {
		go q.work()
	}
	return q
}

// Send queues m and returns without waiting for delivery. It returns
// ErrQueueFull when the buffer is full and ErrClosed after Close. The values
// of ctx (trace ids) are kept for delivery but its cancellation is not: the
// caller's request usually ends long before the provider is called.
func (q *Queue) Send(ctx context.Context, m Message) error {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		return ErrClosed
	}
	select {
	case q.ch <- job{ctx: context.WithoutCancel(ctx), m: m}:
		return nil
	default:
		q.dropped.Add(1)
		return ErrQueueFull
	}
}

// Close stops accepting messages, delivers those already queued and waits for
// the workers to finish. It is safe to call more than once.
func (q *Queue) Close() error {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.ch)
	}
	q.mu.Unlock()
	q.wg.Wait()
	return nil
}

// Stats returns the current counters.
func (q *Queue) Stats() QueueStats {
	return QueueStats{Sent: q.sent.Load(), Failed: q.failed.Load(), Dropped: q.dropped.Load(), Pending: len(q.ch)}
}

func (q *Queue) work() {
	defer q.wg.Done()
	for j := range q.ch {
		q.deliver(j)
	}
}

// deliver sends one message; a panic in the inner Sender is recovered and
// counted so one bad message cannot kill a worker.
func (q *Queue) deliver(j job) {
	ctx := j.ctx
	if q.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, q.timeout)
		defer cancel()
	}
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("notify: sender panicked: %v", r)
			}
		}()
		return q.inner.Send(ctx, j.m)
	}()
	if err == nil {
		q.sent.Add(1)
		return
	}
	q.failed.Add(1)
	if q.onErr != nil {
		q.onErr(j.m, err)
	}
}
