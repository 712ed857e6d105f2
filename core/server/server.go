// Package server is the HTTP front of `resetbot serve`: a public listener for
// channel webhooks (Slack, Teams, Twilio) and a separate admin listener for
// Prometheus metrics and, when enabled, pprof.
//
// The split is a security measure: /metrics and /debug/pprof are never
// reachable on the public listener (they 404 there even if a catch-all route
// is registered), and readiness details (which check failed) are shown only
// on the admin listener. Every public request gets a request ID, panic
// recovery, a body-size limit and per-route metrics.
package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Settings are the listeners' settings (server.* in the configuration; the
// composition root maps them). A zero duration or size takes its default.
type Settings struct {
	// Listen is the public address for channel webhooks (":8080").
	Listen string
	// AdminListen serves /metrics (and pprof); empty disables the admin
	// listener.
	AdminListen string
	// Pprof exposes /debug/pprof on the admin listener.
	Pprof bool
	// ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout bound
	// each connection (defaults 5s, 15s, 30s, 60s).
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// ShutdownTimeout is the shutdown budget (default 15s).
	ShutdownTimeout time.Duration
	// ReadyTimeout bounds the readiness checks (default 3s).
	ReadyTimeout time.Duration
	// MaxBodyBytes limits request bodies (default 1 MiB); larger get 413.
	MaxBodyBytes int64
	// MaxInflight bounds the public requests worked on at once (default
	// 256); beyond it a request gets 503 with Retry-After.
	MaxInflight int
	// TLSCertFile and TLSKeyFile enable TLS (minimum 1.2) on the public
	// listener.
	TLSCertFile, TLSKeyFile string
	// Tracing starts a span per request on the global tracer provider,
	// which the app installs when tracing.otlp_endpoint is set. Off, no
	// span is started: even a no-op one costs allocations on every request.
	Tracing bool
}

// Checker is a readiness check (LDAP bind, Redis PING). Check must honour ctx
// and be safe for concurrent use; a nil error means ready.
type Checker interface {
	Check(ctx context.Context) error
}

// CheckFunc adapts a function to Checker.
type CheckFunc func(ctx context.Context) error

// Check calls f.
func (f CheckFunc) Check(ctx context.Context) error { return f(ctx) }

// Server serves the public and admin listeners. Register routes and checks
// before Run; both are also safe to add while running.
type Server struct {
	cfg     Settings
	log     *slog.Logger
	public  *http.ServeMux
	admin   *http.ServeMux
	metrics *metrics
	rand    io.Reader

	mu     sync.Mutex
	checks []namedCheck

	slots       chan struct{} // one per public request in flight (server.max_inflight)
	stopping    atomic.Bool
	budget      context.Context // done shutdown_timeout after shutdown begins
	cutBudget   context.CancelFunc
	beginOnce   sync.Once
	readyMu     sync.Mutex // one public readiness run at a time
	readyAt     time.Time
	readyFailed []string
}

type namedCheck struct {
	name string
	c    Checker
}

// New builds a server. Metrics are registered on reg (a new registry when nil);
// the caller adds process and Go collectors if it wants them.
func New(cfg Settings, logger *slog.Logger, reg *prometheus.Registry) *Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = 3 * time.Second
	}
	if cfg.MaxInflight <= 0 {
		cfg.MaxInflight = 256
	}
	s := &Server{
		cfg:     cfg,
		log:     logger,
		public:  http.NewServeMux(),
		admin:   http.NewServeMux(),
		metrics: newMetrics(reg),
		rand:    rand.Reader,
		slots:   make(chan struct{}, cfg.MaxInflight),
	}
	s.budget, s.cutBudget = context.WithCancel(context.Background())
	// Explicit 404s: a catch-all "/" route registered later cannot expose these.
	s.public.Handle("/metrics", http.NotFoundHandler())
	s.public.Handle("/debug/", http.NotFoundHandler())
	s.public.HandleFunc("GET /healthz", s.healthz)
	s.public.HandleFunc("GET /readyz", s.readyz(false))

	s.admin.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	s.admin.HandleFunc("GET /healthz", s.healthz)
	s.admin.HandleFunc("GET /readyz", s.readyz(true))
	if cfg.Pprof {
		s.admin.HandleFunc("/debug/pprof/", pprof.Index)
		s.admin.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		s.admin.HandleFunc("/debug/pprof/profile", pprof.Profile)
		s.admin.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		s.admin.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return s
}

// Handle registers a public route, e.g. Handle("POST /slack/events", h). The
// pattern (net/http.ServeMux syntax) is also the route label in metrics.
func (s *Server) Handle(pattern string, h http.Handler) { s.public.Handle(pattern, h) }

// AddCheck registers a readiness check under name (shown on the admin
// listener's /readyz when it fails).
func (s *Server) AddCheck(name string, c Checker) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checks = append(s.checks, namedCheck{name, c})
}

// PublicHandler returns the public listener's handler with all middleware.
func (s *Server) PublicHandler() http.Handler {
	// instrument gives the request its ID too (requestID).
	return s.instrument(s.recoverPanics(s.limitInflight(s.limitBody(s.secureHeaders(s.public)))))
}

// AdminHandler returns the admin listener's handler.
func (s *Server) AdminHandler() http.Handler {
	return s.requestID(s.recoverPanics(s.admin))
}

// Run listens on the configured addresses and serves until ctx is cancelled,
// then shuts down gracefully within ShutdownTimeout. It returns nil after a
// clean shutdown and an error when a listener cannot start or fails.
func (s *Server) Run(ctx context.Context) error {
	pub, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("server: listen %s: %w", s.cfg.Listen, err)
	}
	var adm net.Listener
	if s.cfg.AdminListen != "" {
		if adm, err = net.Listen("tcp", s.cfg.AdminListen); err != nil {
			_ = pub.Close()
			return fmt.Errorf("server: admin listen %s: %w", s.cfg.AdminListen, err)
		}
	}
	return s.Serve(ctx, pub, adm)
}

// Serve is Run on listeners the caller opened (admin may be nil). It closes
// them on return.
func (s *Server) Serve(ctx context.Context, public, admin net.Listener) error {
	servers := []*http.Server{s.httpServer(s.PublicHandler())}
	listeners := []net.Listener{public}
	if admin != nil {
		servers = append(servers, s.httpServer(s.AdminHandler()))
		listeners = append(listeners, admin)
	}
	tlsOn := s.cfg.TLSCertFile != ""
	if tlsOn {
		// TLS ≥ 1.2 only (security checklist: inbound TLS).
		servers[0].TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() {
			var err error
			if i == 0 && tlsOn {
				err = srv.ServeTLS(listeners[i], s.cfg.TLSCertFile, s.cfg.TLSKeyFile)
			} else {
				err = srv.Serve(listeners[i])
			}
			if errors.Is(err, http.ErrServerClosed) {
				err = nil
			}
			errc <- err
		}()
	}
	s.log.Info("server listening", "public", public.Addr().String(), "admin", addrOf(admin), "tls", tlsOn)
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
		if runErr != nil {
			runErr = fmt.Errorf("server: %w", runErr)
		}
	}
	s.BeginShutdown()
	sctx := s.ShutdownBudget()
	for _, srv := range servers {
		if err := srv.Shutdown(sctx); err != nil {
			// Requests still running at the deadline are cut: closing their
			// connections cancels their contexts, so their turns stop and the
			// platform retries them on another replica.
			_ = srv.Close()
			s.log.Warn("shutdown deadline reached; open requests cut", "timeout", s.cfg.ShutdownTimeout)
			if runErr == nil {
				runErr = fmt.Errorf("server: shutdown: %w", err)
			}
		}
	}
	return runErr
}

// BeginShutdown starts the shutdown budget (server.shutdown_timeout) and
// marks the server unready. Serve calls it when its context is done; it is
// idempotent.
func (s *Server) BeginShutdown() {
	s.beginOnce.Do(func() {
		s.stopping.Store(true)
		d := s.cfg.ShutdownTimeout
		if d <= 0 {
			d = 15 * time.Second
		}
		time.AfterFunc(d, s.cutBudget)
	})
}

// ShutdownBudget returns a context that is done shutdown_timeout after
// shutdown began: one budget for the whole exit, shared by the HTTP
// listeners, the channels' turn queues and the audit flush. It is not done
// before BeginShutdown.
func (s *Server) ShutdownBudget() context.Context { return s.budget }

func (s *Server) httpServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: orDefault(s.cfg.ReadHeaderTimeout, 5*time.Second),
		ReadTimeout:       orDefault(s.cfg.ReadTimeout, 15*time.Second),
		WriteTimeout:      orDefault(s.cfg.WriteTimeout, 30*time.Second),
		IdleTimeout:       orDefault(s.cfg.IdleTimeout, 60*time.Second),
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func addrOf(l net.Listener) string {
	if l == nil {
		return ""
	}
	return l.Addr().String()
}
