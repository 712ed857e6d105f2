package ocsf_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/audit/ocsf"
	"github.com/resetbot/resetbot/core/audit/ocsf/ocsftest"
)

// readFrames reads n octet-counted syslog frames (RFC 5425 4.3).
func readFrames(t *testing.T, c net.Conn, n int) []string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	var out []string
	for range n {
		l, err := r.ReadString(' ')
		if err != nil {
			t.Fatalf("frame length: %v", err)
		}
		size, err := strconv.Atoi(strings.TrimSpace(l))
		if err != nil {
			t.Fatalf("frame length %q", l)
		}
		b := make([]byte, size)
		if _, err := io.ReadFull(r, b); err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

var header = regexp.MustCompile(`^<86>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z testhost resetbot \d+ ocsf - \{`)

func sendAndReceive(t *testing.T, ln net.Listener, s *ocsf.Syslog) {
	t.Helper()
	got := make(chan []string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		got <- readFrames(t, c, 2)
	}()
	w := ocsf.NewWriter(s, "test")
	evs := events()[3:5]
	evs[0].Actor = "slack:U1\nforged line"
	for _, e := range evs {
		if err := w.Write(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	frames := <-got
	if len(frames) != 2 {
		t.Fatalf("frames: %v", frames)
	}
	for _, f := range frames {
		if !header.MatchString(f) {
			t.Errorf("bad RFC 5424 header: %q", f)
		}
		body := f[strings.Index(f, "{"):]
		for _, err := range ocsftest.Validate([]byte(body)) {
			t.Errorf("%v", err)
		}
	}
	_ = s.Close()
}

func TestSyslogTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	sendAndReceive(t, ln, &ocsf.Syslog{Addr: ln.Addr().String(), Hostname: "testhost"})
}

func TestSyslogTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(nil) // only for its test certificate
	srv.StartTLS()
	cert := srv.TLS.Certificates[0]
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	srv.Close()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	sendAndReceive(t, ln, &ocsf.Syslog{Addr: ln.Addr().String(), Hostname: "testhost",
		TLS: &tls.Config{RootCAs: pool, ServerName: "example.com", MinVersion: tls.VersionTLS12}})
}

// TestSyslogReconnects: after the collector drops the connection, the next
// event is delivered on a new one.
func TestSyslogReconnects(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s := &ocsf.Syslog{Addr: ln.Addr().String(), Hostname: "testhost", Timeout: 2 * time.Second}
	defer s.Close()
	w := ocsf.NewWriter(s, "test")
	first := make(chan struct{})
	go func() {
		c, err := ln.Accept()
		if err == nil {
			readFrames(t, c, 1)
			c.Close()
		}
		close(first)
	}()
	if err := w.Write(context.Background(), audit.Event{Name: "flow.start", Ref: "R-1"}); err != nil {
		t.Fatal(err)
	}
	<-first
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- ""
			return
		}
		defer c.Close()
		got <- readFrames(t, c, 1)[0]
	}()
	// A write on a connection the peer closed may succeed once at the TCP
	// level; keep writing until the new connection receives one.
	deadline := time.Now().Add(5 * time.Second)
	for {
		_ = w.Write(context.Background(), audit.Event{Name: "flow.end", Ref: "R-2"})
		select {
		case f := <-got:
			if !strings.Contains(f, `"R-2"`) {
				t.Fatalf("frame %q", f)
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no reconnection")
		}
	}
}

// TestSyslogNeverBlocks: with no collector listening, writes return at once,
// a full queue drops and counts, and Close returns within its bound.
func TestSyslogNeverBlocks(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	s := &ocsf.Syslog{Addr: addr, Queue: 4, Timeout: 200 * time.Millisecond}
	w := ocsf.NewWriter(s, "test")
	full := 0
	for range 50 {
		if err := w.Write(context.Background(), audit.Event{Name: "flow.start", Ref: "R-1"}); err != nil {
			full++
		}
	}
	if full == 0 || s.Dropped() == 0 {
		t.Errorf("a queue of 4 took 50 messages (full %d, dropped %d)", full, s.Dropped())
	}
	start := time.Now()
	_ = s.Close()
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Close took %v", took)
	}
}
