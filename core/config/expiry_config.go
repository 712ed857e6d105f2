package config

import (
	"net/url"
	"time"

	"github.com/resetbot/resetbot/core/notify"
)

// ExpiryRemindersConfig configures password expiry reminders
// (outreach.expiry; core/outreach/expiry, docs/outreach.md): a DM — or an
// e-mail to the work mailbox — N days before a password expires, with a
// Change it now button that starts the change flow. The outreach section's
// channels, quiet hours and lease apply to it as to every notice.
type ExpiryRemindersConfig struct {
	Enabled bool `yaml:"enabled"`
	// ThresholdsDays are the days before expiry a reminder is due (14, 7,
	// 1). A password gets at most one reminder per threshold, and only
	// the one of its current threshold.
	ThresholdsDays []int `yaml:"thresholds_days"`
	// Interval between sweeps (1h). Each sweep reads only the accounts
	// inside the largest threshold.
	Interval time.Duration `yaml:"interval"`
	// MaxPerRun caps the reminders of one sweep (500); the rest wait for
	// the next sweep, most urgent first. It is what keeps a policy change
	// from turning into a storm.
	MaxPerRun int `yaml:"max_per_run"`
	// Email sends the reminder to the account's work mailbox when no chat
	// platform reaches the user (needs notify.email and ChangeURL).
	Email bool `yaml:"email"`
	// ChangeURL is the https link an e-mail reminder carries: where the
	// user finds the bot (a Slack app_redirect or Teams chat deep link).
	ChangeURL string `yaml:"change_url"`
}

// Expiry reminder defaults.
const (
	DefaultExpiryInterval  = time.Hour
	DefaultExpiryMaxPerRun = 500
)

// DefaultExpiryThresholdsDays are the reminder days when none are configured.
var DefaultExpiryThresholdsDays = []int{14, 7, 1}

func defaultExpiryReminders() ExpiryRemindersConfig {
	return ExpiryRemindersConfig{ThresholdsDays: append([]int(nil), DefaultExpiryThresholdsDays...),
		Interval: DefaultExpiryInterval, MaxPerRun: DefaultExpiryMaxPerRun}
}

// Thresholds returns the thresholds as durations.
func (e ExpiryRemindersConfig) Thresholds() []time.Duration {
	out := make([]time.Duration, len(e.ThresholdsDays))
	for i, d := range e.ThresholdsDays {
		out[i] = time.Duration(d) * 24 * time.Hour
	}
	return out
}

// expiryReminders validates p (outreach.expiry) against the rest of c.
func (v *validator) expiryReminders(p string, e *ExpiryRemindersConfig, c *Config) {
	if !e.Enabled {
		return
	}
	if len(e.ThresholdsDays) == 0 {
		v.errorf(p+".thresholds_days", "must list at least one number of days, such as [14, 7, 1]")
	}
	seen := map[int]bool{}
	for i, d := range e.ThresholdsDays {
		switch {
		case d < 1 || d > 365:
			v.errorf(index(p+".thresholds_days", i), "must be between 1 and 365 days")
		case seen[d]:
			v.errorf(index(p+".thresholds_days", i), "%d is listed twice", d)
		}
		seen[d] = true
	}
	if e.Interval < 5*time.Minute || e.Interval > 24*time.Hour {
		v.errorf(p+".interval", "must be between 5m and 24h (every sweep reads the directory)")
	}
	if e.MaxPerRun < 1 || e.MaxPerRun > 100000 {
		v.errorf(p+".max_per_run", "must be between 1 and 100000")
	}
	if e.Email {
		if !c.Notify.Delivers(notify.ChannelEmail) {
			v.errorf(p+".email", "needs notify.email (the SMTP relay)")
		}
		if u, err := url.Parse(e.ChangeURL); err != nil || u.Scheme != "https" || u.Host == "" {
			v.errorf(p+".change_url", "must be the https link where users find the bot (it goes in the e-mail)")
		}
	} else if e.ChangeURL != "" {
		v.warnf(p+".change_url", "is set but email is off: only chat reminders are sent, and they carry a button")
	}
	if !reachesChat(&c.Channels) && !e.Email {
		v.errorf(p+".enabled", "no chat channel is enabled and email is off: reminders would reach nobody")
	}
	for i, d := range c.Directories {
		if pe, ok := d.Plugin.(policyEntry); ok && pe.PolicyEntry() == "" {
			v.warnf(index("directories", i)+"."+d.Type+".policy_dn",
				"is empty: accounts without pwdPolicySubentry get no expiry reminder (set the ppolicy_default entry)")
		}
	}
}

// leaseAndQuiet checks the outreach settings reminders share with the
// lockout watcher, when only the reminders are enabled.
func (v *validator) leaseAndQuiet(p string, o *OutreachConfig, c *Config) {
	if o.LeaseTTL < time.Second {
		v.errorf(p+".lease_ttl", "must be at least 1s")
	}
	v.quietHours(p+".quiet_hours", o.QuietHours)
	for i, name := range o.Channels {
		v.outreachChannel(index(p+".channels", i), name, c, false)
	}
}

// policyEntry is a directory plug-in's configuration naming a default
// password policy entry (ldap's policy_dn), which expiry reminders need for
// accounts without their own policy.
type policyEntry interface{ PolicyEntry() string }
