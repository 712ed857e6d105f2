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
// configuration, decoded and validated by it. SMS and calls may also come
// from a channel's provider account (channels.twilio), selected by
// SMS.Provider.
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
	// Provider is the key of a channel block whose account sends SMS and
	// calls (twilio: channels.twilio's credentials), or outbox.
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
	case "outbox":
		if v.production() {
			v.errorf(p+".sms.provider", "outbox never delivers anything and cannot be used in production")
		}
	case "":
		if phone {
			v.errorf(p+".sms.provider", "is required when sms or voice is enabled")
		}
	default:
		acct, ok := v.smsAccount(&c.Channels, n.SMS.Provider)
		if !ok {
			v.errorf(p+".sms.provider", "must be %s", strings.Join(append(smsAccounts(v.reg), "outbox"), " or "))
			return
		}
		if phone && !n.Delivers(notify.ChannelSMS) && !acct.Delivers(notify.ChannelSMS) {
			v.errorf(p+".sms.provider", "%s needs %s", n.SMS.Provider, acct.Missing("channels."+n.SMS.Provider))
		}
	}
}

// SMSAccount is a channel block whose provider account sends SMS and calls
// (notify.AccountOpener: channels.twilio); notify.sms.provider names its
// key.
type SMSAccount interface {
	Delivers(ch notify.Channel) bool
	// Missing names the settings under path the account still needs to
	// send ("channels.twilio.auth_token").
	Missing(path string) string
}

// smsAccount returns the account of channel block key: the file's block,
// or else the registered plug-in with its defaults.
func (v *validator) smsAccount(c *ChannelsConfig, key string) (SMSAccount, bool) {
	cfg, ok := c.Plugins[key]
	if !ok {
		if cfg, ok = v.reg.New(plugin.Channel, key); !ok {
			return nil, false
		}
	}
	a, ok := cfg.(SMSAccount)
	return a, ok
}

// smsAccounts lists the registered channel types whose account sends SMS,
// sorted.
func smsAccounts(reg plugin.Registry) []string {
	var out []string
	for _, typ := range reg.Types(plugin.Channel) {
		if cfg, _ := reg.New(plugin.Channel, typ); cfg != nil {
			if _, ok := cfg.(SMSAccount); ok {
				out = append(out, typ)
			}
		}
	}
	return out
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
