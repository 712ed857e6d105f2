package server_test

import (
	"context"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/server"
)

// TestShutdownBudgetCutsLongRequests: a request longer than shutdown_timeout
// does not hold the exit; its context is cancelled at the deadline and the
// budget context other parts share is done at the same time.
func TestShutdownBudgetCutsLongRequests(t *testing.T) {
	s, _, _ := newServer(t, func(c *server.Settings) { c.ShutdownTimeout = 300 * time.Millisecond })
	entered, cut := make(chan struct{}), make(chan error, 1)
	s.Handle("POST /slow", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		select {
		case <-r.Context().Done():
			cut <- r.Context().Err()
		case <-time.After(30 * time.Second):
			cut <- nil
		}
	}))
	pub, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, pub, nil) }()
	go func() {
		resp, err := http.Post("http://"+pub.Addr().String()+"/slow", "text/plain", nil)
		if err == nil {
			_ = resp.Body.Close()
		}
	}()
	<-entered
	if s.ShutdownBudget().Err() != nil {
		t.Fatal("budget done before shutdown began")
	}
	t0 := time.Now()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return within 5s of a 300ms shutdown_timeout")
	}
	if took := time.Since(t0); took > 2*time.Second {
		t.Errorf("shutdown took %v with shutdown_timeout 300ms", took)
	}
	select {
	case err := <-cut:
		if err == nil {
			t.Error("the long request was not cut")
		}
	case <-time.After(2 * time.Second):
		t.Error("the long request's context was never cancelled")
	}
	if s.ShutdownBudget().Err() == nil {
		t.Error("shared budget not done after the deadline")
	}
}

// TestMaxInflightSheds: with max_inflight requests running, the next webhook
// gets 503 + Retry-After at once, health probes still answer, and a freed
// slot is used again.
func TestMaxInflightSheds(t *testing.T) {
	s, _, _ := newServer(t, func(c *server.Settings) { c.MaxInflight = 2 })
	release, entered := make(chan struct{}), make(chan struct{}, 2)
	s.Handle("POST /hook", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
	}))
	h := s.PublicHandler()
	var done sync.WaitGroup
	for range 2 {
		done.Go(func() { do(t, h, http.MethodPost, "/hook", nil) })
	}
	<-entered
	<-entered
	rec := do(t, h, http.MethodPost, "/hook", nil)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("third request: %d, Retry-After %q; want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	if rec := do(t, h, http.MethodGet, "/healthz", nil); rec.Code != http.StatusOK {
		t.Fatalf("healthz shed: %d", rec.Code)
	}
	close(release)
	done.Wait()
	go func() { <-entered }()
	if rec := do(t, h, http.MethodPost, "/hook", nil); rec.Code != http.StatusOK {
		t.Fatalf("after the slots freed: %d", rec.Code)
	}
}
