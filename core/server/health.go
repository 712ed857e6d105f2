package server

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// readyz runs every check with the ready timeout. detail lists the names of
// failing checks (admin listener only); error details go to the log, never to
// the response.
func (s *Server) readyz(detail bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if s.stopping.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("shutting down\n"))
			return
		}
		var failed []string
		if detail {
			failed = s.runChecks(r.Context())
		} else {
			failed = s.cachedChecks(r.Context())
		}
		if len(failed) == 0 {
			_, _ = w.Write([]byte("ok\n"))
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		if detail {
			_, _ = w.Write([]byte("failing: " + strings.Join(failed, ", ") + "\n"))
			return
		}
		_, _ = w.Write([]byte("not ready\n"))
	}
}

// readyCacheFor is how long the public listener reuses a readiness result:
// anonymous probes must not turn into a directory bind and search each.
const readyCacheFor = 5 * time.Second

// cachedChecks returns a recent result, or runs the checks once for every
// caller waiting meanwhile, detached from any one caller's cancellation.
func (s *Server) cachedChecks(ctx context.Context) []string {
	s.readyMu.Lock()
	defer s.readyMu.Unlock()
	if !s.readyAt.IsZero() && time.Since(s.readyAt) < readyCacheFor {
		return s.readyFailed
	}
	s.readyFailed = s.runChecks(context.WithoutCancel(ctx))
	s.readyAt = time.Now()
	return s.readyFailed
}

// runChecks runs all checks concurrently and returns the sorted names of
// those that failed or did not answer in time.
func (s *Server) runChecks(ctx context.Context) []string {
	s.mu.Lock()
	checks := slices.Clone(s.checks)
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ReadyTimeout)
	defer cancel()

	var (
		mu     sync.Mutex
		failed []string
		wg     sync.WaitGroup
	)
	for _, c := range checks {
		wg.Go(func() {
			done := make(chan error, 1)
			go func() { done <- c.c.Check(ctx) }()
			var err error
			select {
			case err = <-done:
			case <-ctx.Done(): // a check that ignores ctx cannot hold up the probe
				err = ctx.Err()
			}
			if err != nil {
				s.log.Warn("readiness check failed", "check", c.name, "err", err)
				mu.Lock()
				failed = append(failed, c.name)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(failed)
	return failed
}
