package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/resetbot/resetbot/core/alarm"
	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/outreach"
	"github.com/resetbot/resetbot/core/outreach/expiry"
	"github.com/resetbot/resetbot/core/outreach/lease"
	"github.com/resetbot/resetbot/core/outreach/lockout"
	"github.com/resetbot/resetbot/core/store"
)

// Outreach runs the lockout watchers (config outreach.lockout): one per
// watched directory, each under a lease so exactly one replica polls it.
// Chat channels register their DirectMessenger when opened (AddChannel) and send
// notice clicks to Answers; serve calls Start once they have.
type Outreach struct {
	cfg     config.OutreachConfig
	dirs    []config.DirectoryConfig
	router  *directory.Router
	st      store.Store
	keys    outreach.Keys
	audit   audit.Sink
	alarm   alarm.Notifier
	log     *slog.Logger
	clock   func() time.Time
	owner   string
	answers *lockout.Answers
	metrics *outreachMetrics
	sms     outreach.DirectMessenger
	// expiry is the reminder scheduler's part (outreach_expiry.go).
	expiry outreachExpiry

	mu         sync.Mutex
	messengers map[string]outreach.DirectMessenger
	// registered are the messengers' channels in registration order.
	registered []string
}

// buildOutreach builds a.Outreach when the lockout watcher is enabled.
func (a *App) buildOutreach(cfg *config.Config, opt Options) error {
	if !cfg.Outreach.Lockout.Enabled && !cfg.Outreach.Expiry.Enabled {
		return nil
	}
	router, ok := a.Directory.(*directory.Router)
	if !ok {
		return errors.New("outreach: directories are not behind a router")
	}
	keys, err := outreach.NewKeys(a.outreachKey)
	if err != nil {
		return err
	}
	m, err := newOutreachMetrics(opt.Metrics)
	if err != nil {
		return err
	}
	sink := audit.Sink(a.Audit)
	if m != nil {
		sink = audit.Multi(a.Audit, m)
	}
	o := &Outreach{cfg: cfg.Outreach, dirs: cfg.Directories, router: router, st: a.Store, keys: keys,
		audit: sink, alarm: a.alarmNotify, log: opt.Log, clock: opt.Clock, owner: lease.NewOwner(),
		answers: &lockout.Answers{Store: a.Store, Keys: keys, Audit: sink, Clock: opt.Clock}, metrics: m,
		messengers: map[string]outreach.DirectMessenger{}}
	if cfg.Outreach.SMS && a.smsSender != nil {
		o.sms = &outreach.SMS{Sender: a.smsSender, Render: a.Messages.Text}
	}
	o.expiry = outreachExpiry{email: a.emailSender, render: a.Messages,
		answers: &expiry.Answers{Store: a.Store, Audit: sink, Clock: opt.Clock}}
	a.Outreach = o
	return nil
}

// Answers is the Answerer for notice buttons (any replica answers).
func (o *Outreach) Answers() outreach.Answerer {
	return outreach.Answerers{o.answers, o.expiry.answers}
}

// Register adds a chat platform's messenger; the composition root calls it
// for every opened channel that can send outreach notices
// (core/channel.OutreachMessenger).
func (o *Outreach) Register(m outreach.DirectMessenger) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.messengers[m.Channel()]; !ok {
		o.registered = append(o.registered, m.Channel())
	}
	o.messengers[m.Channel()] = m
}

// messengerList returns the messengers in configured order
// (outreach.channels; by default the order the channels registered in, the
// channel registry's order), then SMS when opted in.
func (o *Outreach) messengerList() []outreach.DirectMessenger {
	o.mu.Lock()
	defer o.mu.Unlock()
	order := o.cfg.Channels
	if len(order) == 0 {
		order = o.registered
	}
	var out []outreach.DirectMessenger
	for _, ch := range order {
		if m := o.messengers[ch]; m != nil {
			out = append(out, m)
		}
	}
	if o.sms != nil {
		out = append(out, o.sms)
	}
	return out
}

// Watchers builds one lockout watcher per watched directory.
func (o *Outreach) Watchers() ([]*lockout.Watcher, error) {
	watched := o.cfg.Lockout.Directories
	if len(watched) == 0 {
		watched = defaultWatched(o.dirs)
	}
	q, err := o.quiet()
	if err != nil {
		return nil, err
	}
	var ws []*lockout.Watcher
	for _, wd := range watched {
		d, ok := o.router.Named(wd.Name)
		if !ok {
			return nil, fmt.Errorf("outreach: directory %q is not configured", wd.Name)
		}
		src, ok := lockoutSource(d)
		if !ok {
			return nil, fmt.Errorf("outreach: directory %q cannot list lockouts", wd.Name)
		}
		w, err := lockout.New(lockout.Options{Directory: wd.Name, Source: src, Dir: o.router,
			Interval: o.cfg.Lockout.Interval, MaxAge: o.cfg.Lockout.MaxAge, Bases: wd.Bases, Groups: wd.Groups,
			Messengers: o.messengerList(), Store: o.st, Keys: o.keys, Audit: o.audit, Alarm: o.alarm,
			RatePerUser: o.cfg.RatePerUser, RateWindow: o.cfg.RateWindow, Quiet: q,
			Spray: lockout.Spray{Accounts: o.cfg.Spray.Accounts, Window: o.cfg.Spray.Window,
				PerSource: o.cfg.Spray.PerSource, Pause: o.cfg.Spray.PauseOutreach},
			Log: o.log, Clock: o.clock, Observe: o.metrics.observe})
		if err != nil {
			return nil, err
		}
		ws = append(ws, w)
	}
	return ws, nil
}

// defaultWatched are the directories watched when outreach.lockout names
// none: every directory whose plug-in lists locked accounts. The plug-in's
// configuration says so (config.DirectoryConfig.ListsLockouts), so a new
// directory type is watched without this code naming it.
func defaultWatched(dirs []config.DirectoryConfig) []config.WatchedDirectory {
	var out []config.WatchedDirectory
	for _, d := range dirs {
		if d.ListsLockouts() {
			out = append(out, config.WatchedDirectory{Name: d.Name})
		}
	}
	return out
}

func (o *Outreach) quiet() (lockout.Quiet, error) {
	qh := o.cfg.QuietHours
	if qh.Start == "" && qh.End == "" {
		return lockout.Quiet{}, nil
	}
	start, err1 := config.ClockOffset(qh.Start)
	end, err2 := config.ClockOffset(qh.End)
	zone, err3 := time.LoadLocation(qh.TimeZone)
	if err := errors.Join(err1, err2, err3); err != nil {
		return lockout.Quiet{}, fmt.Errorf("outreach.quiet_hours: %w", err)
	}
	return lockout.Quiet{Start: start, End: end, Zone: zone}, nil
}

// lockoutSource finds the LockoutSource behind d (through the metrics
// wrapper, which times it as the "lockouts" operation).
func lockoutSource(d directory.Directory) (directory.LockoutSource, bool) {
	if t, ok := d.(*timedDirectory); ok {
		if _, ok := t.Directory.(directory.LockoutSource); ok {
			return t, true
		}
		return nil, false
	}
	s, ok := d.(directory.LockoutSource)
	return s, ok
}

// Lockouts times a lockout read like every other directory operation.
func (t *timedDirectory) Lockouts(ctx context.Context, q directory.LockoutQuery) (_ directory.LockoutRead, err error) {
	src, ok := t.Directory.(directory.LockoutSource)
	if !ok {
		return directory.LockoutRead{}, fmt.Errorf("directory %s cannot list lockouts", t.name)
	}
	ctx, span := t.begin(ctx, "lockouts")
	defer func(start time.Time) { t.observe(span, "lockouts", start, err) }(time.Now())
	return src.Lockouts(ctx, q)
}

// Start runs every watcher under its lease until the returned stop is
// called (serve calls it at shutdown; the leases are released so another
// replica takes over at once).
func (o *Outreach) Start(ctx context.Context) (stop func(), err error) {
	var ws []*lockout.Watcher
	if o.cfg.Lockout.Enabled {
		if ws, err = o.Watchers(); err != nil {
			return nil, err
		}
	}
	sched, err := o.expiryScheduler()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	l := lease.New(o.st)
	for _, w := range ws {
		r := &lease.Runner{Lease: l, Name: w.LeaseName(), Owner: o.owner, TTL: o.cfg.LeaseTTL, Log: o.log,
			OnChange: o.metrics.leaseChanged(w.LeaseName())}
		wg.Add(1)
		go func() { defer wg.Done(); r.Run(ctx, w.Run) }()
	}
	if sched != nil {
		r := &lease.Runner{Lease: l, Name: expiryLease, Owner: o.owner, TTL: o.cfg.LeaseTTL, Log: o.log,
			OnChange: o.metrics.leaseChanged(expiryLease)}
		wg.Add(1)
		go func() { defer wg.Done(); r.Run(ctx, sched.Loop) }()
	}
	o.log.Info("outreach watchers started", "watchers", len(ws), "messengers", len(o.messengerList()))
	return func() { cancel(); wg.Wait() }, nil
}
