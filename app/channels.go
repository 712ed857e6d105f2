package app

import (
	"log/slog"

	"github.com/resetbot/resetbot/core/channel"
	"github.com/resetbot/resetbot/core/handoff"
	"github.com/resetbot/resetbot/core/handoff/escalate"
)

// ChannelDeps are the dependencies channel adapters are opened with
// (core/channel.Deps): the narrow parts of the app a channel may use. log
// receives the channels' operational logs (nil: the app's).
func (a *App) ChannelDeps(log *slog.Logger) channel.Deps {
	if log == nil {
		log = a.Log
	}
	d := channel.Deps{Engine: a.Engine, Messages: a.Messages, Tokens: a.Tokens, Store: a.Store, Audit: a.Audit,
		Log: log, CallerKey: a.CallerKey, PublicURL: a.Config.Server.PublicURL,
		SessionTTL: a.Config.Sessions.AbsoluteTimeout}
	// Interfaces are set only from non-nil values, so an adapter's nil check
	// sees a missing part as missing.
	if a.Directory != nil {
		d.Accounts = a.Directory
	}
	if a.EnrollPages != nil {
		d.Pages = a.EnrollPages
	}
	if a.Handoffs != nil {
		d.Handoffs = a.Handoffs.Store
		d.Lifter = a.Handoffs.Lifter
	}
	return d
}

// AddChannel registers what an opened channel can do, found by type
// assertion (core/channel's capabilities): its handoff starter, help-desk
// poster and handoff watcher with Handoffs, its chat poster with Posters
// (alarms, the monthly summary), and its outreach messenger with Outreach.
// The composition root calls it once per channel, before serving.
func (a *App) AddChannel(ch channel.Channel) {
	name := ch.Name()
	if a.auditMetrics != nil {
		a.auditMetrics.addChannel(name)
	}
	if p, ok := ch.(channel.ChatPoster); ok {
		a.Posters.Set(name, func(target string) escalate.Poster { return p.PostTo(target) })
	}
	if m, ok := ch.(channel.OutreachMessenger); ok && a.Outreach != nil {
		a.Outreach.Register(m.Outreach(a.Outreach.Answers()))
	}
	if a.Handoffs == nil {
		return
	}
	if s, ok := ch.(channel.HandoffStarter); ok {
		a.Handoffs.SetStarter(name, handoff.StarterFunc(s.StartHandoff))
	}
	if p, ok := ch.(channel.HelpDeskPoster); ok {
		if poster, on := p.HelpDesk(); on {
			a.Handoffs.SetPoster(name, poster)
		}
	}
	if w, ok := ch.(channel.HandoffWatcher); ok {
		a.Handoffs.Watch(handoff.ChangeFunc(w.HandoffChanged))
	}
}
