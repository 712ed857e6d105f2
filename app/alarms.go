package app

import (
	"context"
	"strconv"
	"strings"

	"github.com/resetbot/resetbot/core/alarm"
	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/handoff/webhook"
)

// alarmChatQueue bounds the alerts waiting for one chat channel.
const alarmChatQueue = 64

// alarms builds the abuse detector (an audit sink) and its destinations:
// the operational log at warn level, an abuse.alarm audit event (so the
// SIEM gets it as an OCSF Detection Finding) and, when configured, the
// signed security webhook and chat channels (alarms.destinations).
func (a *App) alarms(cfg *config.Config, opt Options) *alarm.Detector {
	ac := cfg.Alarms
	ns := []alarm.Notifier{alarm.NotifierFunc(func(ctx context.Context, al alarm.Alert) error {
		opt.Log.Warn("abuse alarm", "rule", al.Rule, "subject", al.Subject, "count", al.Count,
			"refs", strings.Join(al.Refs, ","))
		if a.Audit != nil {
			ref := ""
			if len(al.Refs) > 0 {
				ref = al.Refs[0]
			}
			_ = a.Audit.Write(ctx, audit.Event{Time: al.Time, Name: alarm.NameAlarm, Ref: ref, Channel: al.Channel,
				Actor: al.Subject, Reason: al.Rule, Outcome: audit.OutcomeDenied,
				Fields: map[string]string{"count": strconv.Itoa(al.Count), "refs": strings.Join(al.Refs, ",")}})
		}
		return nil
	})}
	if ac.WebhookURL != "" {
		s := webhook.NewSender(webhook.Options{Client: opt.HTTPClient, Log: opt.Log, Clock: opt.Clock,
			AllowLoopbackHTTP: cfg.Mode == config.ModeDemo})
		a.closers = append(a.closers, s.Close)
		ns = append(ns, alarm.Webhook(s, webhook.Target{Name: "alarms", URL: ac.WebhookURL, Secret: ac.WebhookSecret}))
	}
	for _, d := range ac.Destinations {
		c := alarm.NewChat(d.Channel+":"+d.Target, a.Posters.To(d), alarmChatQueue, opt.Log)
		a.closers = append(a.closers, c.Close)
		ns = append(ns, c)
	}
	// Outreach raises its spray alerts through the same destinations.
	a.alarmNotify = alarm.Fanout(ns...)
	return alarm.New(alarm.Thresholds{Window: ac.Window, AccountsPerIdentity: ac.AccountsPerIdentity,
		FailingAccounts: ac.FailingAccounts}, a.alarmNotify, opt.Clock)
}
