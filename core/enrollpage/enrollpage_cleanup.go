package enrollpage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/resetbot/resetbot/core/store"
)

// Cleanups is a durable queue of clean-ups due at a given time: an enrollment
// QR uploaded to Slack that must be deleted, a Teams card that must be
// frozen. It lives in one shared-store record per queue, so a clean-up
// survives a restart and is run by whichever replica sweeps first; an
// in-process timer would be lost with its process.
//
// A job is claimed (removed from the record with compare-and-swap) before it
// runs, so two replicas never run one job twice; a failed run is put back
// with a delay, up to maxTries.
type Cleanups struct {
	st    QueueStore
	key   string
	clock func() time.Time
	log   *slog.Logger
}

// QueueStore is what Cleanups needs of a store.Store.
type QueueStore interface {
	Get(ctx context.Context, key string) (store.Record, error)
	CompareAndSwap(ctx context.Context, key string, expect uint64, value []byte, ttl time.Duration) (uint64, error)
}

// Job is one scheduled clean-up. Data is the adapter's own, non-secret
// description of what to clean (a store key, a conversation and card ID).
type Job struct {
	ID    string    `json:"id"`
	Data  string    `json:"d"`
	Due   time.Time `json:"t"`
	Tries int       `json:"n,omitempty"`
}

const (
	// maxJobs bounds a queue; Schedule refuses more (ErrFull).
	maxJobs = 4096
	// maxTries is how often a failing job is retried.
	maxTries = 5
	// retryDelay spaces retries of a failed job.
	retryDelay = time.Minute
	// queueTTL keeps an idle queue record from living forever.
	queueTTL = 24 * time.Hour
	casTries = 16
)

// ErrFull means a queue holds maxJobs jobs already.
var ErrFull = errors.New("enrollpage: clean-up queue full")

// NewCleanups returns the queue name in st.
func NewCleanups(st QueueStore, name string, clock func() time.Time, log *slog.Logger) *Cleanups {
	if clock == nil {
		clock = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Cleanups{st: st, key: "cleanup:" + name, clock: clock, log: log}
}

// Schedule adds a job, replacing any job with the same ID.
func (c *Cleanups) Schedule(ctx context.Context, id, data string, due time.Time) error {
	return c.edit(ctx, func(jobs []Job) ([]Job, error) {
		jobs = without(jobs, id)
		if len(jobs) >= maxJobs {
			return nil, ErrFull
		}
		return append(jobs, Job{ID: id, Data: data, Due: due.UTC()}), nil
	})
}

// Cancel removes the job id if it is still queued.
func (c *Cleanups) Cancel(ctx context.Context, id string) error {
	return c.edit(ctx, func(jobs []Job) ([]Job, error) { return without(jobs, id), nil })
}

// Sweep claims every due job and runs fn on it; a job whose fn fails is put
// back for a later sweep. It returns how many jobs ran successfully.
func (c *Cleanups) Sweep(ctx context.Context, fn func(ctx context.Context, j Job) error) (int, error) {
	now := c.clock()
	var due []Job
	err := c.edit(ctx, func(jobs []Job) ([]Job, error) {
		due = due[:0]
		keep := jobs[:0:0]
		for _, j := range jobs {
			if !j.Due.After(now) {
				due = append(due, j)
			} else {
				keep = append(keep, j)
			}
		}
		if len(due) == 0 {
			return nil, errNoChange
		}
		return keep, nil
	})
	if errors.Is(err, errNoChange) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	ok := 0
	for _, j := range due {
		if err := fn(ctx, j); err != nil {
			c.log.Warn("clean-up failed", "queue", c.key, "job", j.ID, "tries", j.Tries+1, "err", err)
			if j.Tries+1 < maxTries {
				j.Tries++
				j.Due = now.Add(retryDelay)
				if err := c.edit(ctx, func(jobs []Job) ([]Job, error) { return append(without(jobs, j.ID), j), nil }); err != nil {
					c.log.Error("clean-up not rescheduled", "queue", c.key, "job", j.ID, "err", err)
				}
			}
			continue
		}
		ok++
	}
	return ok, nil
}

// Run sweeps every interval until ctx ends.
func (c *Cleanups) Run(ctx context.Context, every time.Duration, fn func(ctx context.Context, j Job) error) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			sctx, cancel := context.WithTimeout(ctx, every)
			if _, err := c.Sweep(sctx, fn); err != nil {
				c.log.Warn("clean-up sweep failed", "queue", c.key, "err", err)
			}
			cancel()
		}
	}
}

var errNoChange = errors.New("no change")

// edit applies change to the queue with compare-and-swap.
func (c *Cleanups) edit(ctx context.Context, change func([]Job) ([]Job, error)) error {
	for range casTries {
		var jobs []Job
		var ver uint64
		rec, err := c.st.Get(ctx, c.key)
		switch {
		case err == nil:
			ver = rec.Version
			if err := json.Unmarshal(rec.Value, &jobs); err != nil {
				jobs = nil // a corrupt queue is replaced rather than wedged
			}
		case !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("enrollpage: read clean-ups: %w", err)
		}
		next, err := change(jobs)
		if err != nil {
			return err
		}
		b, err := json.Marshal(next)
		if err != nil {
			return fmt.Errorf("enrollpage: encode clean-ups: %w", err)
		}
		_, err = c.st.CompareAndSwap(ctx, c.key, ver, b, queueTTL)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return fmt.Errorf("enrollpage: write clean-ups: %w", err)
		}
		return nil
	}
	return fmt.Errorf("enrollpage: clean-ups: %w", store.ErrConflict)
}

func without(jobs []Job, id string) []Job {
	out := jobs[:0:0]
	for _, j := range jobs {
		if j.ID != id {
			out = append(out, j)
		}
	}
	return out
}
