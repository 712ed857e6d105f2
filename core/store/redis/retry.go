package redis

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

var errMalformed = errors.New("malformed reply")

// errDemoted means a write went to a node a failover has demoted since: it
// is transient, and the idempotent call is retried on the new master.
var errDemoted = errors.New("redis: the write reached a demoted master")

// Defaults for retries across a failover.
const (
	// DefaultRetryFor bounds how long an idempotent call is retried when the
	// caller's context has no earlier deadline.
	DefaultRetryFor = 3 * time.Second
	// commitRetryFor is the least a commit is retried (within its caller's
	// deadline): a commit that has run its step (a code checked, a
	// password reset) must land across a whole failover — Sentinel's
	// detection, the promotion and the replica-ack grace — rather than have
	// the step run again on state it already changed.
	commitRetryFor = 10 * time.Second
	retryFirst     = 25 * time.Millisecond
	retryMax       = 400 * time.Millisecond
)

// retry runs fn until it succeeds, fails with an error that a retry cannot
// cure, or the time is up: ctx's deadline or limit, whichever comes first.
// Only calls that are idempotent (the turn scripts: acquiring again with
// the same owner, renewing, committing again) are retried; the others get
// one try.
func (s *Store) retry(ctx context.Context, limit time.Duration, fn func() error) error {
	err := fn()
	if err == nil || limit <= 0 || !transient(err) {
		return err
	}
	until := time.Now().Add(limit)
	if d, ok := ctx.Deadline(); ok && d.Before(until) {
		until = d
	}
	wait := retryFirst
	for {
		if time.Now().Add(wait).After(until) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		s.retries.Add(1)
		if err = fn(); err == nil || !transient(err) {
			return err
		}
		wait = min(2*wait, retryMax)
	}
}

// transient reports whether err may go away by itself: the network, a server
// that is loading or read-only (a demoted master during a failover), a
// cluster moving slots.
func transient(err error) bool {
	switch {
	case errors.Is(err, goredis.Nil), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false
	case errors.Is(err, errDemoted), errors.Is(err, errUnacked), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, goredis.ErrClosed),
		errors.Is(err, goredis.ErrPoolTimeout):
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var re goredis.Error
	if errors.As(err, &re) {
		msg := re.Error()
		for _, p := range []string{"READONLY", "LOADING", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "NOREPLICAS"} {
			if strings.HasPrefix(msg, p) {
				return true
			}
		}
	}
	return false
}

// errUnacked means a commit was written on the master but not acknowledged
// by the replicas asked for: it is not reported as committed (a failover
// right now would discard it), and it is retried — committing again is a
// no-op that waits again.
var errUnacked = errors.New("redis: the commit was not acknowledged by the replicas")

// runAcked runs script and, when replica acknowledgements are configured,
// WAIT and ROLE on the same connection in the same round trip.
//
// A commit the replicas did not acknowledge in time is not a commit: on a
// master that a planned failover has just replaced (the promoted replica
// has already dropped its link, Sentinel has not yet demoted the old
// master, and clients still write to it) it would be discarded when the old
// master resyncs, after the turn has answered. So it fails with errDemoted
// (this node is no longer master) or errUnacked, both retried within the
// caller's budget and then reported; the platform redelivers. Only once no
// commit has been acknowledged for ackGrace in a row (a replica down for
// good, longer than any failover's switch) are unacknowledged commits
// accepted, counted in Stats.ReplicaLag: availability then, rather than an
// outage until the replica returns.
//
// Acquire runs through here too: what it reads (a delivery recorded as
// done, a session) may be a commit the old master took alone in that
// moment, and a turn must not answer "done" from a write that is about to
// vanish.
func (s *Store) runAcked(ctx context.Context, script *turnScript, call *turnCall) (*goredis.Cmd, error) {
	if s.acks <= 0 {
		c := call.run(ctx, s.c, script)
		return c, c.Err()
	}
	node, err := s.nodeFor(ctx, call.keys[0])
	if err != nil {
		return nil, err
	}
	for try := 0; ; try++ {
		pipe := node.Pipeline()
		run := call.cmd(ctx)
		_ = pipe.Process(ctx, run)
		wait := pipe.Do(ctx, "wait", s.acks, s.ackTimeout.Milliseconds())
		// ROLE runs after WAIT returns, in the same round trip: it says
		// whether this node is still the master once the wait is over.
		role := pipe.Do(ctx, "role")
		_, _ = pipe.Exec(ctx)
		if err := run.Err(); err != nil {
			if try == 0 && strings.HasPrefix(err.Error(), "NOSCRIPT") {
				if err := script.script.Load(ctx, node).Err(); err != nil {
					return nil, err
				}
				continue
			}
			return nil, err
		}
		if n, err := wait.Int64(); err == nil && n >= int64(s.acks) {
			s.unackedSince.Store(0)
			return run, nil
		}
		if r, err := role.Slice(); err != nil || len(r) == 0 || r[0] != "master" {
			return nil, errDemoted
		}
		if !s.degraded(time.Now()) {
			s.refused.Add(1)
			return nil, errUnacked
		}
		s.lagged.Add(1)
		return run, nil
	}
}

// degraded reports whether commits have gone unacknowledged for ackGrace in
// a row as of now (the streak starts with the first unacknowledged commit
// after an acknowledged one, or after the store opened).
func (s *Store) degraded(now time.Time) bool {
	s.unackedSince.CompareAndSwap(0, now.UnixNano())
	return now.Sub(time.Unix(0, s.unackedSince.Load())) >= s.ackGrace
}

// nodeFor returns the client of the master serving key: the client itself
// for a single server or Sentinel, the slot's master on a Cluster (WAIT has
// no key, so it must go to the node that took the write).
func (s *Store) nodeFor(ctx context.Context, key string) (goredis.Cmdable, error) {
	if cc, ok := s.c.(*goredis.ClusterClient); ok {
		return cc.MasterForKey(ctx, key)
	}
	return s.c, nil
}

// Stats counts what the store did beyond plain commands.
type Stats struct {
	// Retries is how many calls were repeated after a transient failure.
	Retries int64
	// ReplicaLag is how many commits were accepted without the asked
	// number of replica acknowledgements (after ackGrace without any).
	ReplicaLag int64
	// RoundTrips is how many requests went to Redis: a command, or a
	// pipeline sent and answered as one (a script counts once, whatever it
	// runs on the server).
	RoundTrips int64
	// Unacked is how many commit attempts were refused because the
	// replicas did not acknowledge them in time (each then retried, or the
	// turn reported as not committed).
	Unacked int64
}

// Stats returns the store's counters.
func (s *Store) Stats() Stats {
	return Stats{Retries: s.retries.Load(), ReplicaLag: s.lagged.Load(), RoundTrips: s.trips.Load(), Unacked: s.refused.Load()}
}

type counters struct {
	retries, lagged, refused, trips atomic.Int64
	// unackedSince is when the current streak of unacknowledged commits
	// began (Unix ns; 0: the last commit was acknowledged).
	unackedSince atomic.Int64
}

// tripCounter is a go-redis hook counting round trips (Stats.RoundTrips):
// what a turn costs in network waits, which Redis's own command statistics
// cannot tell (they count the commands a script runs too).
type tripCounter struct{ n *atomic.Int64 }

func (h tripCounter) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h tripCounter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}

func (h tripCounter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmds)
	}
}
