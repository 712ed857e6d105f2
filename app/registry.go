package app

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/core/notify/outbox"
	"github.com/resetbot/resetbot/core/store"
)

// openDirectories opens every configured directory behind one router.
// With dm set, each is timed under its configured name.
func openDirectories(ctx context.Context, cfg *config.Config, dm *dirMetrics) (directory.Directory, error) {
	var routes []directory.Route
	closeAll := func() {
		for _, r := range routes {
			if c, ok := r.Dir.(directory.Closer); ok {
				_ = c.Close()
			}
		}
	}
	for i, dc := range cfg.Directories {
		d, err := openDirectory(ctx, dc, cfg.Mode)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("directories[%d] (%s): %w", i, dc.Name, err)
		}
		domains := dc.Domains
		if x, ok := dc.Plugin.(extraDomains); ok {
			domains = append(domains, x.ExtraDomains()...)
		}
		routes = append(routes, directory.Route{Name: dc.Name, Dir: dm.wrap(dc.Name, d), Domains: dedupe(domains)})
	}
	r, err := directory.NewRouter(routes...)
	if err != nil {
		closeAll()
		return nil, err
	}
	return r, nil
}

// extraDomains is a directory plug-in routed to domains of its own besides
// the configured ones (the demo directory's demo company).
type extraDomains interface{ ExtraDomains() []string }

// openDirectory opens one directory through its plug-in configuration,
// which validated itself when the configuration was loaded. The memory
// directory refuses to open outside demo mode, even if validation were
// bypassed.
func openDirectory(ctx context.Context, dc config.DirectoryConfig, mode config.Mode) (directory.Directory, error) {
	op, ok := dc.Plugin.(directory.Opener)
	if !ok {
		return nil, fmt.Errorf("unknown type %q", dc.Type)
	}
	return op.Open(ctx, directory.Deps{Name: dc.Name, Demo: mode == config.ModeDemo})
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// senders opens the notifier plug-ins configured under notify and the
// account of the channel block notify.sms.provider names (channels.twilio:
// SMS and code calls). Sends go through a bounded queue, so a slow provider
// never holds a conversation and overload is refused, not queued without
// limit; a sender that delivers in process (the demo outbox) is called
// directly.
func (a *App) senders(ctx context.Context, cfg *config.Config, opt Options) (map[notify.Channel]notify.Sender, error) {
	out := map[notify.Channel]notify.Sender{}
	deps := notify.Deps{Clock: opt.Clock, Production: cfg.Mode != config.ModeDemo, Console: opt.Outbox,
		Store: a.Store, Messages: a.Messages, PublicURL: cfg.Server.PublicURL, Rand: opt.Rand, Log: opt.Log}
	for _, name := range slices.Sorted(maps.Keys(cfg.Notify.Plugins)) {
		op, ok := cfg.Notify.Plugins[name].(notify.Opener)
		if !ok {
			return nil, fmt.Errorf("notify.%s: not a notifier", name)
		}
		opened, err := op.Open(ctx, deps)
		if err != nil {
			return nil, fmt.Errorf("notify.%s: %w", name, err)
		}
		if err := a.addSenders(cfg, "notify."+name, opened, opt, out); err != nil {
			return nil, err
		}
	}
	if err := a.accountSenders(ctx, cfg, deps, opt, out); err != nil {
		return nil, err
	}
	return out, nil
}

// accountSenders adds the SMS and calls of the channel account that
// notify.sms.provider names, when it is configured and no notifier plug-in
// (the demo outbox) delivers them already.
func (a *App) accountSenders(ctx context.Context, cfg *config.Config, deps notify.Deps, opt Options, out map[notify.Channel]notify.Sender) error {
	key := cfg.Notify.SMS.Provider
	acct, ok := cfg.Channels.Plugins[key].(notify.AccountOpener)
	if !ok || !acct.Delivers(notify.ChannelSMS) {
		return nil
	}
	if out[notify.ChannelSMS] != nil || out[notify.ChannelVoice] != nil {
		return nil
	}
	opened, err := acct.OpenSenders(ctx, deps)
	if err != nil {
		return fmt.Errorf("channels.%s: %w", key, err)
	}
	return a.addSenders(cfg, "channels."+key, opened, opt, out)
}

// addSenders puts each opened Sender in out behind its queue, and keeps the
// webhooks of those that serve their own (notify.Routed: the "press 1" of a
// code call) when a factor sends on their channel.
func (a *App) addSenders(cfg *config.Config, name string, opened map[notify.Channel]notify.Sender, opt Options, out map[notify.Channel]notify.Sender) error {
	for _, ch := range slices.Sorted(maps.Keys(opened)) {
		if _, taken := out[ch]; taken {
			return fmt.Errorf("%s: %s is delivered by another notifier already", name, ch)
		}
		if r, ok := opened[ch].(notify.Routed); ok && cfg.Factors.Has(string(ch)) {
			for pattern, h := range r.Routes() {
				if a.notifyRoutes == nil {
					a.notifyRoutes = map[string]http.Handler{}
				}
				a.notifyRoutes[pattern] = h
			}
		}
		s, err := a.queued(name, ch, opened[ch], opt)
		if err != nil {
			return err
		}
		out[ch] = s
	}
	return nil
}

// NotifierRoutes are the webhooks the opened notifiers serve (Twilio's code
// call "press 1" action), keyed "METHOD /path" like a channel's routes; the
// server mounts them whether or not a channel is on.
func (a *App) NotifierRoutes() map[string]http.Handler { return a.notifyRoutes }

// queued tracks s (startup check, close) and returns it behind a bounded
// queue, or as it is when it delivers in process.
func (a *App) queued(name string, ch notify.Channel, s notify.Sender, opt Options) (notify.Sender, error) {
	if box, ok := outbox.BoxOf(s); ok {
		a.Outbox = box
	}
	if _, ok := s.(notify.Direct); ok {
		return s, nil
	}
	a.track(name, s)
	q := notify.NewQueue(s, 256, 4, notify.WithErrorHandler(func(m notify.Message, err error) {
		opt.Log.Error("notification not delivered", "notifier", name, "channel", string(ch), "message", m, "err", err)
	}))
	a.closers = append(a.closers, func() error { q.Close(); return nil })
	if err := watchQueue(opt.Metrics, string(ch), q); err != nil {
		return nil, err
	}
	return q, nil
}

// auditSink opens the configured audit sink ("-" is standard output) and
// adds the caller's.
func (a *App) auditSink(cfg *config.Config, opt Options) (audit.Sink, error) {
	var sinks []audit.Sink
	switch f := cfg.Audit.File; f {
	case "":
	case "-":
		sinks = append(sinks, audit.NewJSONWriter(os.Stdout))
	default:
		fh, err := os.OpenFile(f, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("audit.file: %w", err)
		}
		a.closers = append(a.closers, fh.Close)
		sinks = append(sinks, audit.NewJSONWriter(fh))
	}
	records, live, err := a.observerSinks(cfg, opt)
	if err != nil {
		return nil, err
	}
	sinks = append(sinks, records...)
	// Writes to the record sinks (JSON trail, OCSF) are detached from the
	// request through a bounded queue, so a client that hangs up cannot cost
	// a record; FlushAudit flushes it on shutdown, and the closers (run in
	// reverse) flush it before the files close.
	q := audit.NewQueue(audit.Multi(sinks...), auditQueueSize, opt.Log)
	a.auditQueue = q
	a.closers = append(a.closers, func() error { return q.Close(context.Background()) })
	if opt.Metrics != nil {
		if err := registerAuditMetrics(opt.Metrics, q); err != nil {
			return nil, err
		}
	}
	// Live observers and the caller's sink (tests, embedding) are written
	// synchronously so that they see a turn's events when the turn returns.
	out := append([]audit.Sink{q}, live...)
	if opt.Audit != nil {
		out = append(out, opt.Audit)
	}
	return audit.Multi(out...), nil
}

// auditQueueSize bounds the audit events waiting for the sink. At thousands
// of turns per second a local file keeps it nearly empty; a full queue makes
// writers synchronous (resetbot_audit_overloaded_total), never lossy.
const auditQueueSize = 4096

// OpenStore opens the configured store alone, for commands that read it
// (resetbot report -from store). The caller closes it if it is an io.Closer.
func OpenStore(ctx context.Context, cfg *config.Config) (store.Store, error) {
	return openStore(ctx, cfg, time.Now)
}

// openStore opens the store plug-in selected by store.type from its own
// configuration.
func openStore(ctx context.Context, cfg *config.Config, clock func() time.Time) (store.Store, error) {
	op, ok := cfg.Store.Plugin.(store.Opener)
	if !ok {
		return nil, fmt.Errorf("store: no store of type %q is configured", cfg.Store.Type)
	}
	st, err := op.Open(ctx, store.Deps{Clock: clock, Production: cfg.Mode != config.ModeDemo})
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", cfg.Store.Type, err)
	}
	return st, nil
}
