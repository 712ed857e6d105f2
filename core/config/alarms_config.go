package config

import (
	"time"

	"github.com/resetbot/resetbot/core/secret"
)

// AlarmsConfig sets the abuse alarms' thresholds and where alerts go
// (docs/audit.md). Alarms are always evaluated; without a webhook they are
// logged, audited (abuse.alarm) and counted.
type AlarmsConfig struct {
	// Window is how far back events count and how long an incident stays
	// open after its last event.
	Window time.Duration `yaml:"window"`
	// AccountsPerIdentity alerts when one chat identity or caller number
	// reaches this many different accounts within the window.
	AccountsPerIdentity int `yaml:"accounts_per_identity"`
	// FailingAccounts alerts when this many different accounts fail a factor
	// check within the window.
	FailingAccounts int `yaml:"failing_accounts"`
	// WebhookURL receives each alert as signed JSON (https), signed with
	// WebhookSecret like every resetbot webhook.
	WebhookURL    string        `yaml:"webhook_url"`
	WebhookSecret secret.String `yaml:"webhook_secret"`
	// Destinations are chat channels (a security team's Slack or Teams
	// channel) that receive each alert as a short message.
	Destinations []ChatDestination `yaml:"destinations"`
}

func defaultAlarms() AlarmsConfig {
	return AlarmsConfig{Window: time.Hour, AccountsPerIdentity: 3, FailingAccounts: 10}
}

func (v *validator) alarms(a *AlarmsConfig, ch *ChannelsConfig) {
	const p = "alarms"
	v.positive(p+".window", a.Window)
	if a.AccountsPerIdentity < 2 {
		v.errorf(p+".accounts_per_identity", "must be at least 2 (one identity reaching its own account is normal)")
	}
	if a.FailingAccounts < 2 {
		v.errorf(p+".failing_accounts", "must be at least 2")
	}
	v.webhook(p+".webhook_url", p+".webhook_secret", a.WebhookURL, a.WebhookSecret)
	seen := map[ChatDestination]bool{}
	for i, d := range a.Destinations {
		dp := index(p+".destinations", i)
		v.chatDestination(dp, d, ch)
		if seen[d] {
			v.errorf(dp, "is listed twice (one alert per incident)")
		}
		seen[d] = true
	}
}
