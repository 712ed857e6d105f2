package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/config"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestServeDemoConfig starts `resetbot serve` on a copy of the demo
// configuration (listeners moved by environment overrides) and checks the
// health, readiness and metrics endpoints and a clean shutdown.
func TestServeDemoConfig(t *testing.T) {
	pub, adm := freeAddr(t), freeAddr(t)
	t.Setenv("RESETBOT_SERVER__LISTEN", pub)
	t.Setenv("RESETBOT_SERVER__ADMIN_LISTEN", adm)
	file := filepath.Join(t.TempDir(), "demo.yaml")
	if err := os.WriteFile(file, config.DemoYAML(), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- runServe(ctx, []string{"-config", file}) }()
	get := func(addr, path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if code, _ := get(pub, "/healthz"); code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("serve did not come up")
		}
		select {
		case c := <-done:
			t.Fatalf("serve exited with %d", c)
		case <-time.After(50 * time.Millisecond):
		}
	}
	for _, c := range []struct {
		addr, path string
		code       int
		body       string
	}{
		{pub, "/readyz", 200, ""},
		{pub, "/metrics", 404, ""},
		{adm, "/metrics", 200, "resetbot_http_requests_total"},
		{adm, "/readyz", 200, ""},
	} {
		code, body := get(c.addr, c.path)
		if code != c.code || !strings.Contains(body, c.body) {
			t.Errorf("%s%s: %d %q", c.addr, c.path, code, fmt.Sprint(len(body)))
		}
	}
	cancel()
	select {
	case c := <-done:
		if c != 0 {
			t.Fatalf("serve exited with %d", c)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// TestServeWithoutConfigRefuses: serve never runs the built-in demo by
// accident; the refusal names the demo and check-config.
func TestServeWithoutConfigRefuses(t *testing.T) {
	var code int
	out := captureStderr(t, func() { code = runServe(context.Background(), nil) })
	if code == 0 || !strings.Contains(out, "resetbot demo") || !strings.Contains(out, "check-config") {
		t.Fatalf("exit %d, stderr:\n%s", code, out)
	}
}
