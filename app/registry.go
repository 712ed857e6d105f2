package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/core/notify/email"
	"github.com/resetbot/resetbot/core/notify/outbox"
	notifytwilio "github.com/resetbot/resetbot/core/notify/twilio"
	"github.com/resetbot/resetbot/core/store"
	"github.com/resetbot/resetbot/core/store/bolt"
	storemem "github.com/resetbot/resetbot/core/store/memory"
	"github.com/resetbot/resetbot/core/store/redis"
)

// storeTypes is the registry of state stores, keyed by store.type.
var storeTypes = map[string]func(context.Context, *config.Config, Options) (store.Store, error){
	"memory": func(_ context.Context, c *config.Config, o Options) (store.Store, error) {
		if c.Mode != config.ModeDemo {
			// State in memory is lost on restart and not shared by replicas.
			return nil, errors.New("the memory store exists only in demo mode")
		}
		return storemem.New(storemem.WithClock(o.Clock)), nil
	},
	"bolt": func(_ context.Context, c *config.Config, o Options) (store.Store, error) {
		return bolt.Open(c.Store.Bolt.Path, bolt.WithClock(o.Clock))
	},
	"redis": func(ctx context.Context, c *config.Config, _ Options) (store.Store, error) {
		return redis.Open(ctx, redisConfig(c.Store.Redis))
	},
}

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

// senders builds the notifiers. Sends go through a bounded queue, so a slow
// provider never holds a conversation and overload is refused, not queued
// without limit.
func (a *App) senders(cfg *config.Config, opt Options) (map[notify.Channel]notify.Sender, error) {
	out := map[notify.Channel]notify.Sender{}
	if cfg.Notify.Outbox {
		if cfg.Mode != config.ModeDemo {
			return nil, errors.New("notify.outbox exists only in demo mode")
		}
		a.Outbox = outbox.New(opt.Outbox)
		for _, ch := range []notify.Channel{notify.ChannelSMS, notify.ChannelVoice, notify.ChannelEmail} {
			out[ch] = a.Outbox.Sender(ch)
		}
		return out, nil
	}
	if e := cfg.Notify.Email; e.Host != "" {
		tc, err := smtpTLS(e.CAFile)
		if err != nil {
			return nil, fmt.Errorf("notify.email.%w", err)
		}
		s, err := email.New(email.Config{Host: e.Host, Port: e.Port, Username: e.Username, Password: e.Password,
			From: e.From, TLS: email.TLSMode(e.TLS), Timeout: 15 * time.Second, TLSConfig: tc})
		if err != nil {
			return nil, fmt.Errorf("notify.email: %w", err)
		}
		a.track("smtp", s)
		q := notify.NewQueue(s, 256, 4, notify.WithErrorHandler(func(m notify.Message, err error) {
			opt.Log.Error("email not delivered", "message", m, "err", err)
		}))
		a.closers = append(a.closers, func() error { q.Close(); return nil })
		if err := watchQueue(opt.Metrics, string(notify.ChannelEmail), q); err != nil {
			return nil, err
		}
		out[notify.ChannelEmail] = q
	}
	if err := a.twilioSenders(cfg, opt, out); err != nil {
		return nil, err
	}
	return out, nil
}

// twilioSenders adds Twilio SMS and code calls when notify.sms.provider is
// twilio and the account is configured, each behind a bounded queue.
func (a *App) twilioSenders(cfg *config.Config, opt Options, out map[notify.Channel]notify.Sender) error {
	tc := cfg.Channels.Twilio
	if cfg.Notify.SMS.Provider != "twilio" || tc.AccountSID == "" || tc.AuthToken.Empty() || tc.FromNumber == "" {
		return nil
	}
	c, err := notifytwilio.New(notifytwilio.Config{AccountSID: tc.AccountSID, AuthToken: tc.AuthToken,
		From: tc.FromNumber, API: tc.SMSAPI, VerifyServiceSID: tc.VerifyServiceSID, AllowedPrefixes: tc.AllowedPrefixes,
		MaxPerHour: tc.MaxSendsPerHour, Timeout: tc.RequestTimeout, PublicURL: cfg.Server.PublicURL,
		BaseURL: tc.APIBaseURL, Edge: tc.Edge, Region: tc.Region,
		Store: a.Store, Messages: a.Messages, Clock: opt.Clock, Rand: opt.Rand, Log: opt.Log})
	if err != nil {
		return fmt.Errorf("channels.twilio: %w", err)
	}
	for ch, s := range map[notify.Channel]notify.Sender{notify.ChannelSMS: c.SMS(), notify.ChannelVoice: c.Voice()} {
		q := notify.NewQueue(s, 256, 4, notify.WithErrorHandler(func(m notify.Message, err error) {
			opt.Log.Error("twilio message not delivered", "channel", string(ch), "message", m, "err", err)
		}))
		a.closers = append(a.closers, func() error { q.Close(); return nil })
		if err := watchQueue(opt.Metrics, string(ch), q); err != nil {
			return err
		}
		out[ch] = q
	}
	return nil
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

// redisConfig maps the validated store.redis section onto the Redis store's
// Config; TestRedisConfigComplete checks that no setting is left behind.
func redisConfig(r config.RedisConfig) redis.Config {
	return redis.Config{Addrs: r.Addrs, MasterName: r.MasterName, Cluster: r.Cluster, Username: r.Username,
		Password: r.Password, SentinelUsername: r.SentinelUsername, SentinelPassword: r.SentinelPassword,
		DB: r.DB, TLS: r.TLS, CAFile: r.CAFile, ServerName: r.ServerName, KeyPrefix: r.KeyPrefix,
		DialTimeout: r.DialTimeout, ReadTimeout: r.ReadTimeout, WriteTimeout: r.WriteTimeout, PoolSize: r.PoolSize,
		ReplicaAcks: r.ReplicaAcks, ReplicaAckTimeout: r.ReplicaAckTimeout,
		ReplicaAckGrace: r.ReplicaAckGrace}
}

// auditQueueSize bounds the audit events waiting for the sink. At thousands
// of turns per second a local file keeps it nearly empty; a full queue makes
// writers synchronous (resetbot_audit_overloaded_total), never lossy.
const auditQueueSize = 4096

// OpenStore opens the configured store alone, for commands that read it
// (resetbot report -from store). The caller closes it if it is an io.Closer.
func OpenStore(ctx context.Context, cfg *config.Config) (store.Store, error) {
	open, ok := storeTypes[cfg.Store.Type]
	if !ok {
		return nil, fmt.Errorf("store: unknown type %q", cfg.Store.Type)
	}
	st, err := open(ctx, cfg, Options{Clock: time.Now})
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", cfg.Store.Type, err)
	}
	return st, nil
}
