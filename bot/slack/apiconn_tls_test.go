package slack

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/resetbot/resetbot/core/server"
)

// TestAPIConnsSpeakTLS: over an https base, calls verify the server with
// the transport's TLS settings and speak HTTP/1.1 on one kept-alive
// connection, even to a server offering HTTP/2.
func TestAPIConnsSpeakTLS(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || r.ProtoMajor != 1 {
			http.Error(w, r.Proto, http.StatusBadRequest)
			return
		}
		_, _ = io.WriteString(w, userJSON)
	}))
	srv.EnableHTTP2 = true
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	tr := server.Transport(4)
	tr.TLSClientConfig = &tls.Config{RootCAs: roots}
	b := tokenBot(srv.URL, &http.Client{Timeout: apiTimeout, Transport: tr})
	if b.conns = newAPIConns(tr, b.apiBase(), apiTimeout, 4); b.conns == nil {
		t.Fatal("no pool for an https base")
	}
	defer b.conns.close()
	for range 5 {
		if u, err := callUser(t, context.Background(), b); err != nil || u.TeamID != "T1" {
			t.Fatalf("users.info over TLS: %+v, %v", u, err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d TLS connections, want 1", n)
	}
	// Without the server's certificate, the handshake fails.
	untrusted := server.Transport(4)
	b.conns = newAPIConns(untrusted, b.apiBase(), apiTimeout, 4)
	if _, err := callUser(t, context.Background(), b); err == nil {
		t.Error("a server with an unknown certificate was trusted")
	}
}
