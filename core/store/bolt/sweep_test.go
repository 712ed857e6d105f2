package bolt

import (
	"context"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// counts returns the number of entries in the record and expiry buckets.
func counts(t *testing.T, s *Store) (recs, exps int) {
	t.Helper()
	err := s.db.View(func(tx *bbolt.Tx) error {
		recs = tx.Bucket(bucketRecords).Stats().KeyN
		exps = tx.Bucket(bucketExpiry).Stats().KeyN
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return recs, exps
}

func TestSweepDeletesOnlyExpired(t *testing.T) {
	ctx := context.Background()
	clk := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s, err := Open(filepath.Join(t.TempDir(), "state.db"), WithClock(clk.Now), WithSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	const n = 2500 // more than one sweep batch
	for i := range n {
		if _, err := s.Set(ctx, "code:"+strconv.Itoa(i), []byte("h"), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	// Rewriting a key moves its index entry; the old one must not linger.
	if _, err := s.Set(ctx, "code:0", []byte("h"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Set(ctx, "enroll:bob", []byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Set(ctx, "gone", []byte("x"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Take(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if recs, exps := counts(t, s); recs != n+1 || exps != n {
		t.Fatalf("before sweep: %d records, %d index entries; want %d, %d", recs, exps, n+1, n)
	}

	steps := []struct {
		name      string
		advance   time.Duration
		swept     int
		recs, exp int
	}{
		{"nothing due", 59 * time.Second, 0, n + 1, n},
		{"minute passed", time.Second, n - 1, 2, 1},
		{"hour passed", time.Hour, 1, 1, 0},
		{"idempotent", time.Hour, 0, 1, 0},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			clk.Add(st.advance)
			got, err := s.Sweep(ctx)
			if err != nil || got != st.swept {
				t.Fatalf("Sweep = %d, %v; want %d", got, err, st.swept)
			}
			if recs, exps := counts(t, s); recs != st.recs || exps != st.exp {
				t.Fatalf("%d records, %d index entries; want %d, %d", recs, exps, st.recs, st.exp)
			}
		})
	}
}

func TestBackgroundSweepRuns(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "state.db"), WithSweepInterval(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Set(ctx, "k", []byte("x"), 30*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if recs, _ := counts(t, s); recs == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("background sweep did not remove the expired record")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
