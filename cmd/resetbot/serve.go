package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/resetbot/resetbot/app"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/enrollpage"
	"github.com/resetbot/resetbot/core/handoff/api"
	"github.com/resetbot/resetbot/core/logging"
	"github.com/resetbot/resetbot/core/server"
	"github.com/resetbot/resetbot/plugins"
)

const serveNoConfig = `resetbot serve: -config FILE is required.
  To try resetbot without any server:   resetbot demo   (or: make run)
  To check a configuration file:        resetbot check-config -config FILE
  A starting point for a file:          core/config/example.yaml
`

// runServe starts the HTTP service: channel webhooks on the public listener,
// /healthz and /readyz, and /metrics on the admin listener. It refuses to
// start when the configuration or a startup check fails.
func runServe(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	path := fs.String("config", "", "configuration file (YAML), required")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *path == "" {
		// Never the built-in demo by accident: it has published demo
		// passwords and prints codes to the terminal.
		fmt.Fprint(os.Stderr, serveNoConfig)
		return 2
	}
	cfg, probs := config.Load(*path, os.Environ(), plugins.All())
	if len(probs) > 0 {
		fmt.Fprintln(os.Stderr, probs.Error())
	}
	if probs.HasErrors() {
		return 1
	}
	log := logging.New(os.Stderr, logging.ParseLevel(cfg.Log.Level), cfg.Log.Format)
	applyMemoryLimit(cfg, log)
	if cfg.Mode == config.ModeDemo {
		log.Warn("serving a demo-mode configuration: demo directory with published passwords, codes printed to the outbox; never expose it")
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a, err := app.Build(ctx, cfg, app.Options{Log: log, Metrics: reg})
	if err != nil {
		log.Error("startup failed", "err", err)
		return 1
	}
	defer a.Close()
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = a.Check(cctx)
	cancel()
	if err != nil {
		log.Error("startup check failed", "err", err)
		return 1
	}
	settings := app.ServerSettings(cfg.Server)
	settings.Tracing = a.Tracing()
	srv := server.New(settings, log, reg)
	for name, fn := range a.Checkers() {
		srv.AddCheck(name, server.CheckFunc(fn))
	}
	if a.Handoffs.API != nil {
		srv.Handle(api.Prefix, a.Handoffs.API)
	}
	if a.EnrollPages != nil {
		srv.Handle(enrollpage.Path, a.EnrollPages)
	}
	stop, err := mountChannels(ctx, a, srv, log)
	if err != nil {
		log.Error("channel setup failed", "err", err)
		return 1
	}
	if a.Outreach != nil {
		// After the channels: they registered their messengers.
		stopOutreach, err := a.Outreach.Start(ctx)
		if err != nil {
			stop()
			log.Error("outreach setup failed", "err", err)
			return 1
		}
		stop = func(channels func()) func() { return func() { stopOutreach(); channels() } }(stop)
	}
	log.Info("resetbot serving", "listen", cfg.Server.Listen, "admin", cfg.Server.AdminListen, "mode", cfg.Mode)
	runErr := srv.Run(ctx)
	shutdown(srv, stop, a, log)
	if runErr != nil {
		log.Error("server stopped", "err", runErr)
		return 1
	}
	return 0
}

// shutdown ends what Run left running within the one shutdown budget
// (server.shutdown_timeout, counted from the signal): the channels' turn
// queues (turns past the deadline are cut and release their claims), then
// the audit queue. Closing the app follows.
func shutdown(srv *server.Server, stopChannels func(), a *app.App, log *slog.Logger) {
	srv.BeginShutdown() // a listener failure ends Run without a signal
	started := time.Now()
	stopChannels()
	if err := a.FlushAudit(srv.ShutdownBudget()); err != nil {
		log.Error("audit flush", "err", err)
	}
	log.Info("resetbot stopped", "drain", time.Since(started).Round(time.Millisecond))
}

// applyMemoryLimit sets the runtime's soft memory limit from
// server.memory_limit. Without one the heap may grow to twice the live data
// before a collection: a replica with 20 MB live under overload reached
// 70-80 MB of RSS. "auto" (the default) is config.AutoMemoryLimit, except
// with security questions: each answer check holds 128 MiB (argon2id), and a
// limit below that would keep the collector running through every check.
// GOMEMLIMIT, when the operator set it, has already been applied by the
// runtime and wins.
func applyMemoryLimit(cfg *config.Config, log *slog.Logger) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	n, on, err := cfg.Server.MemoryLimitBytes()
	if err != nil || !on || (cfg.Server.MemoryLimit == "auto" && cfg.Factors.Has("questions")) {
		return
	}
	debug.SetMemoryLimit(n)
	log.Debug("memory limit", "bytes", n)
}
