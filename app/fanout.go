package app

import (
	"context"
	"fmt"
	"sync"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/crypt"
	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/fanout"
	"github.com/resetbot/resetbot/core/fanout/kerberos"
	"github.com/resetbot/resetbot/core/fanout/ldaptarget"
	"github.com/resetbot/resetbot/core/fanout/webhook"
	"github.com/resetbot/resetbot/core/fanout/workspace"
	"github.com/resetbot/resetbot/core/handoff/escalate"
	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/flows"
)

// fanoutTypes is the registry of fan-out targets, keyed by
// fanout.targets[].type. Each entry turns the config block into the target
// package's own Config, which validates itself and opens the target.
var fanoutTypes = map[string]func(config.FanoutTargetConfig, Options) fanout.Config{
	"ldap": directoryTarget,
	"ad":   directoryTarget,
	"webhook": func(t config.FanoutTargetConfig, o Options) fanout.Config {
		c := t.Webhook
		return webhook.Config{Name: t.Name, Label: t.Label, URL: c.URL, Recipient: c.Recipient, Secret: c.Secret,
			Constraints: constraints(t), AllowLoopbackHTTP: c.AllowLoopbackHTTP, Client: o.HTTPClient}
	},
	"kerberos": func(t config.FanoutTargetConfig, _ Options) fanout.Config {
		c := t.Kerberos
		return kerberos.Config{Name: t.Name, Label: t.Label, Realm: c.Realm, AdminServer: c.AdminServer,
			Principal: c.Principal, Keytab: c.Keytab, Krb5Conf: c.Krb5Conf, Kadmin: c.Kadmin, Constraints: constraints(t)}
	},
	"google_workspace": func(t config.FanoutTargetConfig, o Options) fanout.Config {
		c := t.Workspace
		return workspace.Config{Name: t.Name, Label: t.Label, KeyFile: c.KeyFile, Subject: c.Subject,
			Match: directory.Key(c.Match), Domain: c.Domain, Constraints: constraints(t), Client: o.HTTPClient}
	},
}

// directoryTarget pushes to another directory: the target's ldap or ad
// block is that directory plug-in's own configuration plus match, and
// opens the directory itself.
func directoryTarget(t config.FanoutTargetConfig, _ Options) fanout.Config {
	c := ldaptarget.Config{Name: t.Name, Label: t.Label, Constraints: constraints(t)}
	block := t.Plugins[t.Type]
	if m, ok := block.(interface{ MatchKey() directory.Key }); ok {
		c.Match = m.MatchKey()
	}
	c.OpenDirectory = func(ctx context.Context) (directory.Directory, error) {
		op, ok := block.(directory.Opener)
		if !ok {
			return nil, fmt.Errorf("no %s block", t.Type)
		}
		return op.Open(ctx, directory.Deps{Name: t.Name})
	}
	return c
}

func constraints(t config.FanoutTargetConfig) fanout.Constraints {
	c := t.Constraints
	return fanout.Constraints{MinLength: c.MinLength, MaxLength: c.MaxLength, ASCIIOnly: c.ASCIIOnly,
		Forbidden: c.Forbidden, MinClasses: c.MinClasses}
}

// buildFanout opens the configured targets and starts the outbox worker; nil
// when no target is configured. The worker stops when the app closes.
func (a *App) buildFanout(ctx context.Context, cfg *config.Config, opt Options, kr *crypt.Keyring, sink audit.Sink,
	senders map[notify.Channel]notify.Sender) (*fanout.Fanout, error) {
	fc := cfg.Fanout
	if len(fc.Targets) == 0 {
		return nil, nil
	}
	byDir := map[string][]fanout.Entry{}
	for i, t := range fc.Targets {
		mk, ok := fanoutTypes[t.Type]
		if !ok {
			return nil, fmt.Errorf("fanout.targets[%d]: unknown type %q", i, t.Type)
		}
		c := mk(t, opt)
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("fanout.targets[%d] (%s): %w", i, t.Name, err)
		}
		tg, err := c.Open(ctx)
		if err != nil {
			return nil, fmt.Errorf("fanout.targets[%d] (%s): %w", i, t.Name, err)
		}
		a.track("fanout "+t.Name, tg)
		byDir[t.Directory] = append(byDir[t.Directory], fanout.Entry{Target: tg, Timeout: t.Timeout})
	}
	f, err := fanout.New(fanout.Options{Targets: byDir, Store: a.Store, Keyring: kr, Window: fc.Window,
		Audit: sink, Log: opt.Log, Now: opt.Clock, OnFailed: a.fanoutFailed(opt, senders)})
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { f.Run(wctx, 0) })
	a.closers = append(a.closers, func() error { cancel(); wg.Wait(); return nil })
	return f, nil
}

// wireFanout gives the flows the fan-out when targets are configured (the
// field stays a nil interface otherwise).
func (a *App) wireFanout(ctx context.Context, cfg *config.Config, opt Options, sink audit.Sink, d *flows.Deps) error {
	if len(cfg.Fanout.Targets) == 0 {
		return nil
	}
	kr, _, err := keys(cfg, opt)
	if err != nil {
		return err
	}
	f, err := a.buildFanout(ctx, cfg, opt, kr, sink, d.Senders)
	if err != nil {
		return err
	}
	d.Fanout = f
	return nil
}

// fanoutFailed hands a target given up on to the help desk (the escalation
// packet) and tells the account owner on every channel of record, as the
// flows' notices do (SMS to the mobile, email to the recovery address, chat
// to the work identity), which system still has the old password. Nothing
// sent carries a secret.
func (a *App) fanoutFailed(opt Options, senders map[notify.Channel]notify.Sender) func(context.Context, fanout.Failure) {
	return func(ctx context.Context, fl fanout.Failure) {
		if a.Handoffs != nil && a.Handoffs.esc != nil {
			p := escalate.Packet{Ref: fl.Ref, Reason: "fanout_failed:" + fl.Target + ":" + fl.Reason, User: fl.User.Login,
				Flow: "reset", State: "fanout", Messages: []string{"fanout.failed"}, Time: opt.Clock().UTC()}
			if err := a.Handoffs.esc.Escalate(ctx, p); err != nil {
				opt.Log.Error("fan-out escalation not delivered", "ref", fl.Ref, "target", fl.Target, "err", err)
			}
		}
		loc := fl.Locale
		if loc == "" {
			loc = "en"
		}
		const id = "notice.fanout_failed"
		args := map[string]string{"targets": fl.Label, "ref": fl.Ref}
		for ch, to := range map[notify.Channel]string{notify.ChannelSMS: fl.User.Mobile,
			notify.ChannelEmail: fl.User.RecoveryEmail, notify.ChannelChat: fl.User.Email} {
			snd := senders[ch]
			if to == "" || snd == nil {
				continue
			}
			m := notify.Message{To: to, Summary: id, Locale: loc, Kind: notify.KindNotice,
				Body: secret.New(a.Messages.Text(loc, id, false, args))}
			if ch == notify.ChannelEmail {
				m.Subject = a.Messages.Text(loc, id+".subject", false, nil)
			}
			if err := snd.Send(ctx, m); err != nil {
				opt.Log.Warn("fan-out failure notice not sent", "ref", fl.Ref, "channel", string(ch), "err", err)
			}
		}
	}
}
