package slack

import (
	"context"

	"github.com/resetbot/resetbot/core/audit"
)

// origin is where a signed request says it comes from: the workspace
// (team_id), the Enterprise Grid organisation (enterprise_id) and the app
// (api_app_id).
type origin struct{ team, enterprise, app string }

// pinned checks a request's origin against channels.slack.team_ids,
// enterprise_id and api_app_id. The signing secret proves the request came
// from Slack for an app holding that secret, not that it was meant for this
// workspace or this app: a refused request is dropped (acknowledged, so
// Slack does not retry) and audited as authn.rejected with the IDs, which
// are not secret. Production configurations must pin team_ids and
// api_app_id (core/config); enterprise_id is checked when set.
func (b *Bot) pinned(ctx context.Context, o origin, kind string) bool {
	cfg := b.o.Config
	reason := ""
	switch {
	case b.teams != nil && !b.teams[o.team]:
		reason = "foreign_team"
	case cfg.EnterpriseID != "" && o.enterprise != cfg.EnterpriseID:
		reason = "foreign_enterprise"
	case cfg.APIAppID != "" && o.app != cfg.APIAppID:
		reason = "foreign_app"
	}
	if reason == "" {
		return true
	}
	b.log.Info("authn.rejected", "reason", reason, "kind", kind, "team", o.team, "enterprise", o.enterprise, "app", o.app)
	if b.o.Audit != nil {
		err := b.o.Audit.Write(ctx, audit.Event{Name: audit.NameAuthnRejected, Channel: Channel, Outcome: audit.OutcomeDenied,
			Reason: reason, Fields: map[string]string{"kind": kind, "team": o.team, "enterprise": o.enterprise, "app": o.app}})
		if err != nil {
			b.log.Warn("audit write failed", "err", err)
		}
	}
	return false
}
