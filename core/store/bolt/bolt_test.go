package bolt_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/store"
	"github.com/resetbot/resetbot/core/store/bolt"
	"github.com/resetbot/resetbot/core/store/storetest"
)

func open(t testing.TB, path string, opts ...bolt.Option) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(path, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "state.db"), bolt.WithSweepInterval(50*time.Millisecond))
	})
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, open(b, filepath.Join(b.TempDir(), "bench.db")))
}

func TestSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Set(ctx, "enroll:alice", []byte("seed-ciphertext"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Set(ctx, "enroll:alice", []byte("seed-ciphertext-2"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Set(ctx, "sess:1", []byte("state"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Incr(ctx, "fail:alice", 4, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	s = open(t, path)
	tests := []struct {
		key     string
		value   string
		version uint64
		ttl     bool
	}{
		{"enroll:alice", "seed-ciphertext-2", 2, false},
		{"sess:1", "state", 1, true},
		{"fail:alice", "4", 1, true},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			rec, err := s.Get(ctx, tc.key)
			if err != nil || string(rec.Value) != tc.value || rec.Version != tc.version {
				t.Fatalf("Get = (%q, v%d, %v), want (%q, v%d)", rec.Value, rec.Version, err, tc.value, tc.version)
			}
			d, err := s.TTL(ctx, tc.key)
			if err != nil || (d > 0) != tc.ttl || d > time.Hour {
				t.Fatalf("TTL = %v, %v; want expiry %v", d, err, tc.ttl)
			}
		})
	}
	if n, err := s.Incr(ctx, "fail:alice", 1, time.Hour); err != nil || n != 5 {
		t.Fatalf("Incr after restart = %d, %v; want 5", n, err)
	}
}

func TestClosedStoreIsUnavailable(t *testing.T) {
	ctx := context.Background()
	s, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(ctx); err != nil {
		t.Fatalf("Check on open store: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ops := map[string]func() error{
		"Check": func() error { return s.Check(ctx) },
		"Get":   func() error { _, err := s.Get(ctx, "k"); return err },
		"Set":   func() error { _, err := s.Set(ctx, "k", nil, 0); return err },
		"Take":  func() error { _, err := s.Take(ctx, "k"); return err },
		"Incr":  func() error { _, err := s.Incr(ctx, "k", 1, 0); return err },
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			if err := op(); !errors.Is(err, store.ErrUnavailable) {
				t.Fatalf("err = %v, want ErrUnavailable", err)
			}
		})
	}
}

func TestOpenLockedFileTimesOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	open(t, path)
	_, err := bolt.Open(path, bolt.WithOpenTimeout(100*time.Millisecond))
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("second Open: err = %v, want ErrUnavailable", err)
	}
}

func TestEmptyKeyRejected(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "state.db"))
	if _, err := s.Set(context.Background(), "", []byte("x"), 0); err == nil {
		t.Fatal("Set with empty key succeeded")
	}
}
