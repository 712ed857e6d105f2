package redis_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/store"
	"github.com/resetbot/resetbot/core/store/redis"
	"github.com/resetbot/resetbot/internal/testserver"
)

// TestServerDiesUnderLoad kills redis-server while goroutines are mid-way
// through reads and writes: every failure must wrap ErrUnavailable, none may
// panic or hang, and the store must fail closed until the end.
func TestServerDiesUnderLoad(t *testing.T) {
	srv := testserver.StartRedis(t)
	ctx := t.Context()
	s, err := redis.Open(ctx, redis.Config{Addrs: []string{srv.Addr}, DialTimeout: 300 * time.Millisecond, ReadTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	const workers, wantErrs = 4, 3
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	started := make(chan struct{}, workers)
	for w := range workers {
		wg.Go(func() {
			key := "sess:" + strconv.Itoa(w)
			var ver uint64
			failures, ops := 0, 0
			for failures < wantErrs {
				c, cancel := context.WithTimeout(ctx, 10*time.Second)
				err := step(c, s, key, &ver)
				cancel()
				if ops++; ops == 1 {
					started <- struct{}{}
				}
				if err == nil {
					continue
				}
				if !errors.Is(err, store.ErrUnavailable) {
					errs <- err
					return
				}
				failures++
			}
		})
	}
	for range workers {
		<-started
	}
	time.Sleep(50 * time.Millisecond)
	srv.Kill()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("error not wrapping ErrUnavailable: %v", err)
	}
}

// step does one round of a session turn: read, CAS, count an attempt.
func step(ctx context.Context, s *redis.Store, key string, ver *uint64) error {
	if _, err := s.Get(ctx, key); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	v, err := s.CompareAndSwap(ctx, key, *ver, []byte("state"), time.Minute)
	if err != nil {
		return err
	}
	*ver = v
	_, err = s.Incr(ctx, key+":n", 1, time.Minute)
	return err
}
