package config

import (
	"slices"
	"strings"

	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/core/plugin"
)

// NotifyConfig configures how codes and notices reach users. Each key of
// the section that names a registered notifier (notify.email, the SMTP
// relay; notify.outbox, the demo's switch) is that plug-in's own
// configuration, decoded and validated by it. Twilio's SMS and calls are
// configured under channels.twilio and selected by SMS.Provider.
type NotifyConfig struct {
	SMS     SMSConfig                `yaml:"sms"`
	Plugins map[string]plugin.Config `yaml:",inline" plugin:"notifier"`
}

// deliverer is what configuration checks ask a notifier plug-in
// (notify.Opener).
type deliverer interface {
	Delivers(ch notify.Channel) bool
}

// Delivers reports whether a notifier plug-in of the section delivers on ch.
func (n NotifyConfig) Delivers(ch notify.Channel) bool {
	return len(n.deliverers(ch)) > 0
}

// deliverers names the plug-ins delivering on ch, sorted.
func (n NotifyConfig) deliverers(ch notify.Channel) []string {
	var out []string
	for name, p := range n.Plugins {
		if d, ok := p.(deliverer); ok && d.Delivers(ch) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// SMSConfig selects the SMS and voice provider.
type SMSConfig struct {
	// Provider is twilio (uses channels.twilio credentials) or outbox.
	Provider string `yaml:"provider"`
}

// AuditConfig configures the append-only audit trail.
type AuditConfig struct {
	// File is "-" for standard output or a path opened for appending.
	File string `yaml:"file"`
	// OCSF also writes the trail in the OCSF schema (ocsf_config.go).
	OCSF OCSFConfig `yaml:"ocsf"`
}

// LogConfig configures the operational log.
type LogConfig struct {
	// Level is debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is json or text.
	Format string `yaml:"format"`
}

func defaultNotify() NotifyConfig {
	return NotifyConfig{SMS: SMSConfig{Provider: "twilio"}}
}

// notify checks what the factors need of the notifiers; each notifier
// block validates itself.
func (v *validator) notify(n *NotifyConfig, c *Config) {
	const p = "notify"
	if c.Factors.Has(FactorEmail) && !n.Delivers(notify.ChannelEmail) {
		v.errorf(p+".email.host", "is required when the email factor is enabled")
	}
	// Two notifiers on one channel: one would be silently unused.
	for _, ch := range []notify.Channel{notify.ChannelSMS, notify.ChannelVoice, notify.ChannelEmail} {
		if names := n.deliverers(ch); len(names) > 1 {
			v.errorf(p+"."+names[1], "delivers %s as notify.%s does: keep one of them", ch, names[0])
		}
	}
	phone := c.Factors.Has(FactorSMS) || c.Factors.Has(FactorVoice)
	switch n.SMS.Provider {
	case "twilio":
		if phone && !n.Delivers(notify.ChannelSMS) && !c.Channels.Twilio.configured() {
			v.errorf(p+".sms.provider", "twilio needs %s", twilioMissing(c.Channels.Twilio))
		}
	case "outbox":
		if v.production() {
			v.errorf(p+".sms.provider", "outbox never delivers anything and cannot be used in production")
		}
	case "":
		if phone {
			v.errorf(p+".sms.provider", "is required when sms or voice is enabled")
		}
	default:
		v.errorf(p+".sms.provider", "must be twilio or outbox")
	}
}

// twilioMissing names the Twilio settings that are not set, e.g.
// "channels.twilio.auth_token" or "channels.twilio.account_sid and from_number".
func twilioMissing(t TwilioConfig) string {
	var miss []string
	if t.AccountSID == "" {
		miss = append(miss, "account_sid")
	}
	if t.AuthToken.Empty() {
		miss = append(miss, "auth_token")
	}
	if t.FromNumber == "" {
		miss = append(miss, "from_number")
	}
	switch len(miss) {
	case 0:
		return "channels.twilio settings"
	case 1:
		return "channels.twilio." + miss[0]
	}
	return "channels.twilio." + strings.Join(miss[:len(miss)-1], ", ") + " and " + miss[len(miss)-1]
}

func (v *validator) audit(a *AuditConfig) {
	if a.File == "" {
		v.errorf("audit.file", `is required ("-" for standard output)`)
	} else if a.File != "-" {
		v.dirExists("audit.file", a.File)
	}
	v.ocsf(&a.OCSF)
}

func (v *validator) log(l *LogConfig) {
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, l.Level) {
		v.errorf("log.level", "must be debug, info, warn or error")
	}
	if l.Format != "json" && l.Format != "text" {
		v.errorf("log.format", "must be json or text")
	}
	if l.Level == "debug" && v.production() {
		v.warnf("log.level", "debug logging in production")
	}
}
