package server_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/resetbot/resetbot/core/server"
)

// syncBuffer is a log sink safe for concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newServer(t testing.TB, mutate func(*server.Settings)) (*server.Server, *prometheus.Registry, *syncBuffer) {
	t.Helper()
	cfg := server.Settings{Listen: "127.0.0.1:0", ReadyTimeout: 200 * time.Millisecond}
	if mutate != nil {
		mutate(&cfg)
	}
	logs := &syncBuffer{}
	reg := prometheus.NewRegistry()
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return server.New(cfg, logger, reg), reg, logs
}

func do(t *testing.T, h http.Handler, method, path string, body io.Reader) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, body))
	return rec
}

func TestHealthz(t *testing.T) {
	s, _, _ := newServer(t, nil)
	for name, h := range map[string]http.Handler{"public": s.PublicHandler(), "admin": s.AdminHandler()} {
		rec := do(t, h, http.MethodGet, "/healthz", nil)
		if rec.Code != http.StatusOK || rec.Body.String() != "ok\n" {
			t.Errorf("%s /healthz = %d %q", name, rec.Code, rec.Body)
		}
		if rec.Header().Get("X-Request-Id") == "" {
			t.Errorf("%s: no request id", name)
		}
		if v := rec.Header().Get("Server"); v != "" {
			t.Errorf("%s: Server header %q", name, v)
		}
	}
}

func TestReadyz(t *testing.T) {
	s, _, logs := newServer(t, nil)
	if rec := do(t, s.AdminHandler(), http.MethodGet, "/readyz", nil); rec.Code != http.StatusOK {
		t.Fatalf("no checks: %d", rec.Code)
	}
	s.AddCheck("store", server.CheckFunc(func(context.Context) error { return nil }))
	if rec := do(t, s.AdminHandler(), http.MethodGet, "/readyz", nil); rec.Code != http.StatusOK {
		t.Fatalf("passing check: %d", rec.Code)
	}
	s.AddCheck("directory:corp", server.CheckFunc(func(context.Context) error {
		return errors.New("bind failed for password SEKRIT")
	}))
	block := make(chan struct{})
	defer close(block)
	s.AddCheck("stuck", server.CheckFunc(func(context.Context) error { <-block; return nil })) // ignores ctx

	rec := do(t, s.AdminHandler(), http.MethodGet, "/readyz", nil)
	if rec.Code != http.StatusServiceUnavailable || rec.Body.String() != "failing: directory:corp, stuck\n" {
		t.Errorf("admin /readyz = %d %q", rec.Code, rec.Body)
	}
	rec = do(t, s.PublicHandler(), http.MethodGet, "/readyz", nil)
	if rec.Code != http.StatusServiceUnavailable || rec.Body.String() != "not ready\n" {
		t.Errorf("public /readyz = %d %q", rec.Code, rec.Body)
	}
	if strings.Contains(rec.Body.String(), "SEKRIT") || strings.Contains(rec.Body.String(), "corp") {
		t.Errorf("public readyz shows details: %q", rec.Body)
	}
	if !strings.Contains(logs.String(), "directory:corp") {
		t.Errorf("failing check not logged:\n%s", logs)
	}
}

func TestMetricsOnlyOnAdmin(t *testing.T) {
	s, reg, _ := newServer(t, func(c *server.Settings) { c.Pprof = true })
	s.Handle("POST /hook", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) }))
	s.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("catch-all")) }))

	for _, path := range []string{"/metrics", "/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/cmdline"} {
		if rec := do(t, s.PublicHandler(), http.MethodGet, path, nil); rec.Code != http.StatusNotFound {
			t.Errorf("public %s = %d, want 404", path, rec.Code)
		}
	}
	if rec := do(t, s.PublicHandler(), http.MethodPost, "/hook", strings.NewReader("x")); rec.Code != http.StatusAccepted {
		t.Fatalf("POST /hook = %d", rec.Code)
	}
	if got := counter(t, reg, "POST /hook", "202"); got != 1 {
		t.Errorf("requests{POST /hook,202} = %v", got)
	}
	rec := do(t, s.AdminHandler(), http.MethodGet, "/metrics", nil)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `resetbot_http_requests_total{code="202",route="POST /hook"} 1`) ||
		!strings.Contains(rec.Body.String(), "resetbot_http_request_duration_seconds_bucket") {
		t.Errorf("admin /metrics = %d\n%s", rec.Code, rec.Body)
	}
	if rec := do(t, s.AdminHandler(), http.MethodGet, "/debug/pprof/", nil); rec.Code != http.StatusOK {
		t.Errorf("admin pprof = %d", rec.Code)
	}
	// Unmatched paths share one label.
	s2, reg2, _ := newServer(t, nil)
	do(t, s2.PublicHandler(), http.MethodGet, "/random/1", nil)
	do(t, s2.PublicHandler(), http.MethodGet, "/random/2", nil)
	if got := counter(t, reg2, "unmatched", "404"); got != 2 {
		t.Errorf("unmatched = %v", got)
	}
	if rec := do(t, s2.AdminHandler(), http.MethodGet, "/debug/pprof/", nil); rec.Code != http.StatusNotFound {
		t.Errorf("pprof off by default, got %d", rec.Code)
	}
}

// counter returns the value of resetbot_http_requests_total{route,code}.
func counter(t *testing.T, reg *prometheus.Registry, route, code string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "resetbot_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["route"] == route && labels["code"] == code {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no series route=%q code=%q", route, code)
	return 0
}

func TestPanicRecovered(t *testing.T) {
	s, reg, logs := newServer(t, nil)
	s.Handle("/boom", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("new password is SEKRIT-pw")
	}))
	s.Handle("/nil", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		var m map[string]int
		m["x"]++ // runtime error: its text is safe to log
	}))
	rec := do(t, s.PublicHandler(), http.MethodGet, "/boom", nil)
	id := rec.Header().Get("X-Request-Id")
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), id) || id == "" {
		t.Errorf("panic response = %d %q (id %q)", rec.Code, rec.Body, id)
	}
	out := logs.String()
	if !strings.Contains(out, "handler panic") || !strings.Contains(out, "request_id="+id) || !strings.Contains(out, "goroutine") {
		t.Errorf("panic not logged with id and stack:\n%s", out)
	}
	if strings.Contains(out, "SEKRIT") || strings.Contains(rec.Body.String(), "SEKRIT") {
		t.Errorf("panic value leaked")
	}
	if got := counter(t, reg, "/boom", "500"); got != 1 {
		t.Errorf("panic not counted as 500: %v", got)
	}
	if rec := do(t, s.PublicHandler(), http.MethodGet, "/nil", nil); rec.Code != http.StatusInternalServerError {
		t.Errorf("/nil = %d", rec.Code)
	}
	if !strings.Contains(logs.String(), "assignment to entry in nil map") {
		t.Errorf("runtime error text not logged")
	}
}

func TestBodyLimit(t *testing.T) {
	s, _, _ := newServer(t, func(c *server.Settings) { c.MaxBodyBytes = 1024 })
	var reached bool
	s.Handle("POST /hook", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached = true
		body, ok := server.ReadBody(w, r)
		if !ok {
			return
		}
		_, _ = w.Write([]byte{byte(len(body) / 4)})
	}))
	big := strings.Repeat("x", 2048)

	rec := do(t, s.PublicHandler(), http.MethodPost, "/hook", strings.NewReader(big))
	if rec.Code != http.StatusRequestEntityTooLarge || reached {
		t.Errorf("declared oversized body = %d (handler reached %v)", rec.Code, reached)
	}
	// Unknown length (chunked): the limit trips while the handler reads.
	req := httptest.NewRequest(http.MethodPost, "/hook", io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1
	rec = httptest.NewRecorder()
	s.PublicHandler().ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked oversized body = %d", rec.Code)
	}
	if rec := do(t, s.PublicHandler(), http.MethodPost, "/hook", strings.NewReader(big[:1000])); rec.Code != http.StatusOK {
		t.Errorf("body under the limit = %d", rec.Code)
	}
}

func TestServeAndShutdown(t *testing.T) {
	s, _, _ := newServer(t, nil)
	pub, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	adm, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, pub, adm) }()

	for _, u := range []string{"http://" + pub.Addr().String() + "/healthz", "http://" + adm.Addr().String() + "/metrics"} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d", u, resp.StatusCode)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve after cancel = %v", err)
	}
	if _, err := http.Get("http://" + pub.Addr().String() + "/healthz"); err == nil {
		t.Errorf("still serving after shutdown")
	}
}

func TestRunListenError(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s, _, _ := newServer(t, func(c *server.Settings) { c.Listen = l.Addr().String() })
	if err := s.Run(context.Background()); err == nil {
		t.Fatal("Run on a busy port returned nil")
	}
}

// TestPublicReadyzIsCached: anonymous readiness probes reuse a recent result
// instead of running the startup checks (an LDAP bind and search) each time.
func TestPublicReadyzIsCached(t *testing.T) {
	var runs atomic.Int32
	s := server.New(server.Settings{ReadyTimeout: time.Second}, slog.New(slog.DiscardHandler), prometheus.NewRegistry())
	s.AddCheck("count", server.CheckFunc(func(context.Context) error { runs.Add(1); return nil }))
	h := s.PublicHandler()
	for range 50 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
		if w.Code != 200 {
			t.Fatalf("readyz %d", w.Code)
		}
	}
	if n := runs.Load(); n != 1 {
		t.Fatalf("checks ran %d times for 50 public probes", n)
	}
}
