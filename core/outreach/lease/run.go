package lease

import (
	"context"
	"log/slog"
	"time"
)

// Runner keeps one job running on exactly one replica.
type Runner struct {
	// Lease is where the claim is kept (shared by all replicas).
	Lease Lease
	// Name names the job ("watch:corp-ad"); every replica uses the same name.
	Name string
	// Owner is this replica's token (NewOwner); unique per process.
	Owner string
	// TTL is the lease term: how long a dead holder blocks a takeover (10s
	// when zero). The holder renews every TTL/3; a standby retries every TTL/3.
	TTL time.Duration
	// Log receives lease changes (acquired, lost, store errors); may be nil.
	Log *slog.Logger
	// OnChange, if set, is told when this replica gains (true) or loses
	// (false) the lease: metrics and audit hook here.
	OnChange func(held bool)
}

// Run blocks until ctx ends. While this replica holds the lease, job runs
// with a context that is cancelled as soon as the lease is lost or cannot be
// renewed (fail closed: a replica that cannot reach the store stops
// working rather than risk a second holder). When job returns on its own
// while the lease is held, it is started again after one renewal period.
// On return the lease is released so a standby takes over at once.
func (r *Runner) Run(ctx context.Context, job func(ctx context.Context)) {
	ttl := r.TTL
	if ttl <= 0 {
		ttl = 10 * time.Second
	}
	tick := time.NewTicker(ttl / 3)
	defer tick.Stop()
	for {
		ok, err := r.Lease.Acquire(ctx, r.Name, r.Owner, ttl)
		if err != nil && r.Log != nil {
			r.Log.Warn("lease: acquire failed", "lease", r.Name, "err", err)
		}
		if ok {
			r.hold(ctx, ttl, tick, job)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// hold runs job while the lease is renewed; it returns when the lease is
// lost or ctx ends, after the job has returned.
func (r *Runner) hold(ctx context.Context, ttl time.Duration, tick *time.Ticker, job func(ctx context.Context)) {
	r.change(true)
	jctx, cancel := context.WithCancel(ctx)
	done := start(jctx, job)
	defer func() {
		cancel()
		<-done
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), ttl/3)
		_ = r.Lease.Release(rctx, r.Name, r.Owner)
		rcancel()
		r.change(false)
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			ok, err := r.Lease.Renew(ctx, r.Name, r.Owner, ttl)
			if err != nil && r.Log != nil {
				r.Log.Warn("lease: renew failed", "lease", r.Name, "err", err)
			}
			if !ok {
				return
			}
			select {
			case <-done:
				// The job ended by itself; the lease is still ours, start it again.
				done = start(jctx, job)
			default:
			}
		}
	}
}

func start(ctx context.Context, job func(ctx context.Context)) chan struct{} {
	done := make(chan struct{})
	go func() { defer close(done); job(ctx) }()
	return done
}

func (r *Runner) change(held bool) {
	if r.Log != nil {
		r.Log.Info("lease changed", "lease", r.Name, "held", held)
	}
	if r.OnChange != nil {
		r.OnChange(held)
	}
}
