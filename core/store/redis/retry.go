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
	retryFirst      = 25 * time.Millisecond
	retryMax        = 400 * time.Millisecond
)

// retry runs fn until it succeeds, fails with an error that a retry cannot
// cure, or the time is up: ctx's deadline or s.retryFor, whichever comes
// first. Only calls that are idempotent (the turn scripts: acquiring again
// with the same owner, renewing, committing again) pass idempotent; the
// others get one try, as before.
func (s *Store) retry(ctx context.Context, idempotent bool, fn func() error) error {
	err := fn()
	if err == nil || !idempotent || s.retryFor <= 0 || !transient(err) {
		return err
	}
	until := time.Now().Add(s.retryFor)
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
	case errors.Is(err, errDemoted), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNREFUSED),
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

// runAcked runs script and, when replica acknowledgements are configured,
// WAIT on the same connection in the same round trip. Fewer acknowledgements
// than asked for in time are counted (ReplicaLag), not failed: the write is
// on the master and the turn has acted.
func (s *Store) runAcked(ctx context.Context, script *goredis.Script, keys []string, args []any) (int64, error) {
	if s.acks <= 0 {
		return script.Run(ctx, s.c, keys, args...).Int64()
	}
	node, err := s.nodeFor(ctx, keys[0])
	if err != nil {
		return 0, err
	}
	for try := 0; ; try++ {
		pipe := node.Pipeline()
		run := pipe.EvalSha(ctx, script.Hash(), keys, args...)
		wait := pipe.Do(ctx, "wait", s.acks, s.ackTimeout.Milliseconds())
		// ROLE runs after WAIT returns, in the same round trip: it says
		// whether this node is still the master once the wait is over.
		role := pipe.Do(ctx, "role")
		_, _ = pipe.Exec(ctx)
		if err := run.Err(); err != nil {
			if try == 0 && strings.HasPrefix(err.Error(), "NOSCRIPT") {
				if err := script.Load(ctx, node).Err(); err != nil {
					return 0, err
				}
				continue
			}
			return 0, err
		}
		if n, err := wait.Int64(); err != nil || n < int64(s.acks) {
			// Unacknowledged: a lagging or dead replica, or this node was
			// demoted by a failover (its writes will be discarded when it
			// resyncs from the new master). Only the first is acceptable:
			// on a node that is no longer master the commit must be done
			// again where the new master is (it is idempotent).
			if r, err := role.Slice(); err != nil || len(r) == 0 || r[0] != "master" {
				return 0, errDemoted
			}
			s.lagged.Add(1)
		}
		return run.Int64()
	}
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
	// ReplicaLag is how many acknowledged writes did not reach the asked
	// number of replicas within the ack timeout.
	ReplicaLag int64
	// RoundTrips is how many requests went to Redis: a command, or a
	// pipeline sent and answered as one (a script counts once, whatever it
	// runs on the server).
	RoundTrips int64
}

// Stats returns the store's counters.
func (s *Store) Stats() Stats {
	return Stats{Retries: s.retries.Load(), ReplicaLag: s.lagged.Load(), RoundTrips: s.trips.Load()}
}

type counters struct {
	retries atomic.Int64
	lagged  atomic.Int64
	trips   atomic.Int64
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
