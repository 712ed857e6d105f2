package server_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/server"
)

// TestTransportKeepsAConnectionPerWorker: after a round of calls in flight
// from every worker at once, the next round reuses the connections (no new
// TLS handshake), where the default transport keeps only two idle.
func TestTransportKeepsAConnectionPerWorker(t *testing.T) {
	const workers = 8
	var conns atomic.Int32
	arrived := make(chan struct{})
	var release chan struct{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	tr := server.Transport(workers)
	tr.TLSClientConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	// HTTP/1.1, where each call in flight needs its own connection (with
	// HTTP/2 one connection carries them all).
	tr.ForceAttemptHTTP2 = false
	tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
	c := &http.Client{Transport: tr}
	round := func() {
		release = make(chan struct{})
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				resp, err := c.Get(srv.URL)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			})
		}
		for range workers {
			<-arrived // every call is in flight at once
		}
		close(release)
		wg.Wait()
	}
	round()
	first := conns.Load()
	// A connection goes back to the idle pool just after its body is
	// closed, on the transport's own goroutine.
	time.Sleep(100 * time.Millisecond)
	round()
	if n := conns.Load() - first; n != 0 || first != workers {
		t.Fatalf("the second round opened %d new connections (first round %d)", n, first)
	}
}
