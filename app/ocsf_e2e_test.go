package app_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/pem"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/app"
	"github.com/resetbot/resetbot/core/audit/ocsf/ocsftest"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/logging/loggingtest"
	"github.com/resetbot/resetbot/flows"
	"github.com/resetbot/resetbot/plugins"
)

// TestOCSFToSyslogOverTLS: audit.ocsf.syslog with a CA file delivers valid
// OCSF events to a TLS collector on loopback.
func TestOCSFToSyslogOverTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(nil) // for its test certificate
	srv.StartTLS()
	cert := srv.TLS.Certificates[0]
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []string, 1)
	go func() {
		var frames []string
		defer func() { got <- frames }()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(c)
		for {
			l, err := r.ReadString(' ')
			if err != nil {
				return
			}
			n, err := strconv.Atoi(strings.TrimSpace(l))
			if err != nil {
				return
			}
			b := make([]byte, n)
			if _, err := io.ReadFull(r, b); err != nil {
				return
			}
			frames = append(frames, string(b))
		}
	}()
	yaml := `mode: demo
store: {type: memory}
directories: [{name: demo, type: memory}]
notify: {outbox: true, sms: {provider: outbox}}
audit: {file: "` + filepath.Join(t.TempDir(), "audit.jsonl") + `", ocsf: {syslog: {address: "` + ln.Addr().String() + `", tls: true, ca_file: "` + caFile + `", server_name: example.com}}}
`
	cfg, probs := config.Parse([]byte(yaml), nil, plugins.All())
	if probs.HasErrors() {
		t.Fatal(probs.Error())
	}
	log, _ := loggingtest.Capture(t)
	a, err := app.Build(context.Background(), cfg, app.Options{Floor: -1, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []engine.Input{start(flows.FlowReset), text("amartin"), choice("cancel")} {
		a.Engine.Handle(context.Background(), engine.Turn{Channel: "slack", ChannelUser: "U1", Input: in})
	}
	_ = a.Close() // drains the syslog queue and closes the connection
	frames := <-got
	if len(frames) < 3 {
		t.Fatalf("collector received %d messages", len(frames))
	}
	for _, f := range frames {
		i := strings.IndexByte(f, '{')
		if !strings.HasPrefix(f, "<86>1 ") || i < 0 {
			t.Fatalf("not an RFC 5424 message: %q", f)
		}
		for _, err := range ocsftest.Validate([]byte(f[i:])) {
			t.Errorf("%v: %s", err, f)
		}
	}
}
